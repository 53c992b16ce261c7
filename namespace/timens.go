package namespace

import (
	"fmt"
	"strconv"

	"golang.org/x/sys/unix"
)

// Format returns the exact text to write to /proc/PID/timens_offsets of a process
// that created a time namespace (unshare CLONE_NEWTIME): one "clock seconds
// nanoseconds" line per non-zero offset, with nanoseconds in [0, 1e9) as the kernel
// requires (-1.5 s is "-2 500000000").
//
// The offsets freeze (EACCES) once a process enters the namespace, and execve
// enters it (the caller moves to its time_for_children), so the child that unshared
// must write them itself, to /proc/self/timens_offsets, before execve; the file exists
// only for a thread-group leader, and writing needs CAP_SYS_TIME in the owning user
// namespace.
func (o TimeOffsets) Format() []byte {
	var b []byte
	line := func(clock string, ns int64) {
		if ns == 0 {
			return
		}
		sec, nsec := ns/1e9, ns%1e9
		if nsec < 0 {
			sec, nsec = sec-1, nsec+1e9
		}
		b = append(b, clock...)
		b = append(b, ' ')
		b = strconv.AppendInt(b, sec, 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, nsec, 10)
		b = append(b, '\n')
	}
	line("monotonic", o.Monotonic)
	line("boottime", o.Boottime)
	return b
}

// checkTimeOffsets refuses offsets that would move a clock below zero now, which the
// kernel rejects with ERANGE when they are written.
func checkTimeOffsets(o *TimeOffsets) error {
	for _, c := range []struct {
		name  string
		id    int32
		delta int64
	}{{"monotonic", unix.CLOCK_MONOTONIC, o.Monotonic}, {"boottime", unix.CLOCK_BOOTTIME, o.Boottime}} {
		if c.delta >= 0 {
			continue
		}
		var ts unix.Timespec
		if err := unix.ClockGettime(c.id, &ts); err != nil {
			continue
		}
		if ts.Nano()+c.delta < 0 {
			return nsError(Time, "", fmt.Errorf(
				"%s offset %d ns would make the clock negative (it reads %d ns)", c.name, c.delta, ts.Nano()))
		}
	}
	return nil
}
