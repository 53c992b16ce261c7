package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"
)

// logger writes errors to standard error and, with --log, to a file, as text
// or as the JSON lines that engines read (level, msg, time).
type logger struct {
	stderr io.Writer
	file   *os.File
	json   bool
}

// newLogger opens the log file of g, if any; a file that cannot be opened is
// reported on standard error and left out.
func newLogger(g *globals, stderr io.Writer) *logger {
	l := &logger{stderr: stderr}
	if g == nil {
		return l
	}
	l.json = g.logFormat == "json"
	if g.log != "" {
		f, err := os.OpenFile(g.log, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			fmt.Fprintf(stderr, "paddock-runtime: --log: %v\n", err)
		} else {
			l.file = f
		}
	}
	return l
}

// errorf logs an error.
func (l *logger) errorf(format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	fmt.Fprintf(l.stderr, "paddock-runtime: %s\n", msg)
	if l.file == nil {
		return
	}
	if l.json {
		b, _ := json.Marshal(map[string]string{"level": "error", "msg": msg, "time": time.Now().Format(time.RFC3339Nano)})
		l.file.Write(append(b, '\n'))
		return
	}
	fmt.Fprintf(l.file, "time=%q level=error msg=%q\n", time.Now().Format(time.RFC3339Nano), msg)
}

// close closes the log file.
func (l *logger) close() {
	if l.file != nil {
		l.file.Close()
	}
}
