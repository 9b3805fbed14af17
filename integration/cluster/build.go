package cluster

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// Binaries are the paths of the programs a cluster runs.
type Binaries struct {
	Dir                                           string
	Hub, Ctl, Provider, Agent, Simhost, Toxiproxy string
}

var (
	buildOnce sync.Once
	built     Binaries
	buildErr  error
)

// packages maps each binary to its main package.
var packages = map[string]string{
	"hvm-hub":          "./hub/cmd/hvm-hub",
	"hvmctl":           "./hub/cmd/hvmctl",
	"hvm-provider":     "./provider/cmd/hvm-provider",
	"hvm-agent":        "./agent/cmd/hvm-agent",
	"hvm-simhost":      "./integration/simhost/cmd/hvm-simhost",
	"toxiproxy-server": "github.com/Shopify/toxiproxy/v2/cmd/server",
}

// Build compiles every binary once per test process into a temporary
// directory (removed by Cleanup) and returns their paths.
func Build() (Binaries, error) {
	buildOnce.Do(func() { built, buildErr = build() })
	return built, buildErr
}

// Cleanup removes the built binaries.
func Cleanup() {
	if built.Dir != "" {
		os.RemoveAll(built.Dir)
	}
}

func build() (Binaries, error) {
	root, err := moduleRoot()
	if err != nil {
		return Binaries{}, err
	}
	dir, err := os.MkdirTemp("", "hvm-e2e-bin")
	if err != nil {
		return Binaries{}, err
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(packages))
	for name, pkg := range packages {
		wg.Go(func() {
			cmd := exec.Command("go", "build", "-o", filepath.Join(dir, name), pkg)
			cmd.Dir = root
			if out, err := cmd.CombinedOutput(); err != nil {
				errs <- fmt.Errorf("build %s: %w\n%s", name, err, out)
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		os.RemoveAll(dir)
		return Binaries{}, err
	}
	p := func(n string) string { return filepath.Join(dir, n) }
	return Binaries{Dir: dir, Hub: p("hvm-hub"), Ctl: p("hvmctl"), Provider: p("hvm-provider"), Agent: p("hvm-agent"),
		Simhost: p("hvm-simhost"), Toxiproxy: p("toxiproxy-server")}, nil
}

// moduleRoot is the directory of the module's go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not inside the module")
	}
	return filepath.Dir(mod), nil
}
