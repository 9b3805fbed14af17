// Command hvm-hub is the hvmigrate hub.
package main

import (
	"os"

	"hvmigrate/hub/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
