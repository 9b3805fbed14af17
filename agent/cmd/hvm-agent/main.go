// Command hvm-agent is the hvmigrate replication agent.
package main

import (
	"os"

	"hvmigrate/agent/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
