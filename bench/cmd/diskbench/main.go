// Command diskbench makes the scratch data of bench/disk.sh: sparse raw
// images with data at regular intervals, which qemu-img then converts to
// VHD or VHDX. The code under test is hvm-agent's disk command itself.
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "diskbench:", err)
		os.Exit(1)
	}
}

// run parses `sparse -o FILE -size N -every N -len N` and writes the file.
func run(args []string) error {
	if len(args) == 0 || args[0] != "sparse" {
		return fmt.Errorf("usage: diskbench sparse -o FILE -size BYTES -every BYTES -len BYTES")
	}
	fs := flag.NewFlagSet("sparse", flag.ContinueOnError)
	out := fs.String("o", "", "output file")
	size := fs.Int64("size", 0, "file size in bytes")
	every := fs.Int64("every", 64<<20, "distance between data runs")
	length := fs.Int64("len", 32<<20, "bytes of data per run")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *out == "" || *size <= 0 || *every <= 0 || *length <= 0 || *length > *every {
		return fmt.Errorf("need -o, -size > 0 and 0 < -len <= -every")
	}
	return sparse(*out, *size, *every, *length)
}

// sparse writes a file of size bytes holding length bytes of non-zero data
// at every multiple of every, holes elsewhere.
func sparse(path string, size, every, length int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		return err
	}
	buf := make([]byte, min(length, 4<<20))
	for off := int64(0); off < size; off += every {
		for done := int64(0); done < length && off+done < size; done += int64(len(buf)) {
			n := min(int64(len(buf)), length-done, size-off-done)
			fill(buf[:n], off+done)
			if _, err := f.WriteAt(buf[:n], off+done); err != nil {
				return err
			}
		}
	}
	return f.Close()
}

// fill puts a non-zero pattern that depends on the offset into b.
func fill(b []byte, off int64) {
	for i := range b {
		b[i] = byte((off+int64(i))>>9) | 1
	}
}
