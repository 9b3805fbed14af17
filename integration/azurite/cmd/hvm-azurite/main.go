// Command hvm-azurite runs the Azurite blob emulator over HTTPS for demos
// and manual tests, and answers the questions a demo asks of it: a SAS URL
// for a blob, and the SHA-256 of a blob's first bytes.
//
//	hvm-azurite serve --dir DIR [--container NAME]...   runs until SIGINT/SIGTERM
//	hvm-azurite sas --dir DIR --container C --blob B     prints a create+write SAS URL
//	hvm-azurite sha256 --dir DIR --container C --blob B --size N
//
// serve writes DIR/endpoint, DIR/ca.pem, DIR/account and DIR/account.key
// (the emulator's public development credential) for the other commands
// and for the processes under test.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"

	"hvmigrate/integration/azurite"
)

type containers []string

func (c *containers) String() string     { return strings.Join(*c, ",") }
func (c *containers) Set(v string) error { *c = append(*c, v); return nil }

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: hvm-azurite serve|sas|sha256 [flags]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	dir := fs.String("dir", "", "state directory (endpoint, ca.pem, data)")
	var conts containers
	fs.Var(&conts, "container", "container: to create (serve; repeatable) or of the blob (sas, sha256)")
	name := fs.String("blob", "", "blob name (sas, sha256)")
	size := fs.Int64("size", -1, "bytes to hash from the start (sha256; -1 = all)")
	fs.Parse(os.Args[2:])
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "hvm-azurite: --dir is required")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(*dir, conts)
	case "sas", "sha256":
		if len(conts) != 1 || *name == "" {
			err = errors.New("sas and sha256 need one --container and a --blob")
		} else if os.Args[1] == "sas" {
			err = printSAS(*dir, conts[0], *name)
		} else {
			err = printSHA256(*dir, conts[0], *name, *size)
		}
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "hvm-azurite:", err)
		os.Exit(1)
	}
}

func serve(dir string, conts []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	srv, err := azurite.Run(ctx, azurite.Options{DataDir: filepath.Join(dir, "data")})
	if err != nil {
		return err
	}
	defer srv.Close()
	for _, c := range conts {
		if err := srv.CreateContainer(ctx, c); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), srv.CAPEM, 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "endpoint"), []byte(srv.Endpoint+"\n"), 0o600); err != nil {
		return err
	}
	// The emulator's well-known development account, for a hub to be
	// given as its storage credential.
	if err := os.WriteFile(filepath.Join(dir, "account"), []byte(srv.Account+"\n"), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "account.key"), []byte(srv.Key.Reveal()), 0o600); err != nil {
		return err
	}
	fmt.Println("azurite serving", srv.Endpoint)
	<-ctx.Done()
	return nil
}

func attach(dir string) (*azurite.Server, error) {
	ep, err := os.ReadFile(filepath.Join(dir, "endpoint"))
	if err != nil {
		return nil, err
	}
	ca, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		return nil, err
	}
	return azurite.Attach(strings.TrimSpace(string(ep)), ca)
}

func printSAS(dir, cont, name string) error {
	srv, err := attach(dir)
	if err != nil {
		return err
	}
	u, err := srv.BlobSAS(cont, name, sas.BlobPermissions{Create: true, Write: true})
	if err != nil {
		return err
	}
	fmt.Println(u)
	return nil
}

func printSHA256(dir, cont, name string, size int64) error {
	srv, err := attach(dir)
	if err != nil {
		return err
	}
	ctx := context.Background()
	if size >= 0 {
		// A page blob: only its written ranges are read.
		if sum, err := srv.PageBlobSHA256(ctx, cont, name, "", size); err == nil {
			fmt.Println(sum)
			return nil
		}
	}
	c, err := srv.Client()
	if err != nil {
		return err
	}
	opts := &blob.DownloadStreamOptions{}
	if size >= 0 {
		opts.Range = blob.HTTPRange{Offset: 0, Count: size}
	}
	resp, err := c.DownloadStream(ctx, cont, name, opts)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	h := sha256.New()
	n, err := io.Copy(h, resp.Body)
	if err != nil {
		return err
	}
	if size >= 0 && n != size {
		return errors.New("blob shorter than --size")
	}
	fmt.Println(hex.EncodeToString(h.Sum(nil)))
	return nil
}
