package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/paddock-sandbox/paddock/image"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run runs the command line args and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("images", flag.ContinueOnError)
	fs.SetOutput(stderr)
	root := fs.String("store", "", "the image store (default: /var/lib/paddock for root, ~/.local/share/paddock for others)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: images [--store DIR] load REF... | list | rm IMAGE... | prune")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	s, err := image.OpenStore(*root)
	if err == nil {
		err = command(s, fs.Arg(0), fs.Args()[1:], stdout)
	}
	if errors.Is(err, errUsage) {
		fs.Usage()
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "images:", err)
		return 1
	}
	return 0
}

var errUsage = errors.New("usage")

// command runs one subcommand.
func command(s *image.Store, cmd string, args []string, out io.Writer) error {
	switch cmd {
	case "load":
		for _, ref := range args {
			img, err := image.Load(ref, s)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "%s %s (%d layers)\n", short(img.ID), ref, len(img.Layers))
		}
		fmt.Fprintf(out, "unpacked %d layers\n", s.Unpacked())
		return nil
	case "list":
		return list(s, out)
	case "rm":
		for _, a := range args {
			if err := s.Remove(a); err != nil {
				return err
			}
		}
		return nil
	case "prune":
		removed, err := s.Prune()
		for _, d := range removed {
			fmt.Fprintln(out, "removed", d)
		}
		return err
	}
	return errUsage
}

// list prints the images, then the layers with the images that use them.
func list(s *image.Store, out io.Writer) error {
	imgs, err := s.Images()
	if err != nil {
		return err
	}
	users := map[string][]string{}
	fmt.Fprintln(out, "IMAGE         LAYERS  REFERENCES")
	for _, r := range imgs {
		fmt.Fprintf(out, "%-12s  %6d  %s\n", short(r.ID), len(r.DiffIDs), strings.Join(r.Refs, " "))
		for _, d := range r.DiffIDs {
			users[d] = append(users[d], short(r.ID))
		}
	}
	layers, err := s.Layers()
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "\nLAYER         USED BY")
	for _, d := range layers {
		by := strings.Join(users[d], " ")
		if by == "" {
			by = "(unused: prune removes it)"
		}
		fmt.Fprintf(out, "%-12s  %s\n", short(d), by)
	}
	return nil
}

// short returns the first 12 hex digits of a digest.
func short(d string) string {
	d = strings.TrimPrefix(d, "sha256:")
	if len(d) > 12 {
		return d[:12]
	}
	return d
}
