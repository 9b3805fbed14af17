// Command hvmctl is the operator's command line for the hvmigrate hub.
package main

import (
	"os"

	"hvmigrate/hub/ctl"
)

func main() {
	os.Exit(ctl.Main(os.Args[1:], os.Stdout, os.Stderr))
}
