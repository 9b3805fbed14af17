// Command hvm-simhost is a Hyper-V stand-in for Linux: VMs whose disks are
// real VHDX files, checkpoints, HRL change tracking and guest workloads.
package main

import (
	"os"

	"hvmigrate/integration/simhost/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
