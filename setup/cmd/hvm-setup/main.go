// Command hvm-setup installs the hvmigrate provider and agent on a host.
package main

import (
	"os"

	"hvmigrate/setup/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
