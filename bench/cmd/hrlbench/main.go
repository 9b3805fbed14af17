// Command hrlbench generates HRL logs with the hrl writer and measures the
// reader, the coalescer and the writer. bench/hrl.sh drives it.
//
//	hrlbench gen   -o FILE [-size BYTES] [-min BYTES] [-max BYTES]
//	hrlbench parse FILE              open + verify + coalesce, prints seconds
//	hrlbench mem   -dir DIR [-writes N]   coalescer bytes per surviving extent
//	hrlbench write -dir DIR [-mb N]       64 KiB writes, fsync per block
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "hrlbench:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: hrlbench gen|parse|mem|write ...")
	}
	switch args[0] {
	case "gen":
		return gen(args[1:])
	case "parse":
		return parse(args[1:])
	case "mem":
		return mem(args[1:])
	case "write":
		return write(args[1:])
	}
	return fmt.Errorf("unknown mode %q", args[0])
}
