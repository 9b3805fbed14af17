// Command hvm-provider is the hvmigrate replication provider.
package main

import (
	"os"

	"hvmigrate/provider/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
