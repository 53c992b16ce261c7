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
func (l *logger) errorf(format string, a ...any) { l.logf("error", format, a...) }

// warnings is the logger of the command line being run, for warnf.
var warnings *logger

// warnf logs a warning, such as a poststop hook's failure, which the spec has
// logged rather than fail the command.
func warnf(format string, a ...any) {
	if warnings != nil {
		warnings.logf("warning", format, a...)
	}
}

// logf logs a message at level.
func (l *logger) logf(level, format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	if level == "error" {
		fmt.Fprintf(l.stderr, "paddock-runtime: %s\n", msg)
	} else {
		fmt.Fprintf(l.stderr, "paddock-runtime: %s: %s\n", level, msg)
	}
	if l.file == nil {
		return
	}
	if l.json {
		b, _ := json.Marshal(map[string]string{"level": level, "msg": msg, "time": time.Now().Format(time.RFC3339Nano)})
		l.file.Write(append(b, '\n'))
		return
	}
	fmt.Fprintf(l.file, "time=%q level=%s msg=%q\n", time.Now().Format(time.RFC3339Nano), level, msg)
}

// close closes the log file.
func (l *logger) close() {
	if l.file != nil {
		l.file.Close()
	}
}
