package installer

import (
	"context"
	"os"
)

// Status prints what is installed and in what state: binaries against
// their recorded hashes, services, configuration, and the registration.
func (in *Installer) Status(ctx context.Context) error {
	m, err := in.loadManifest()
	if err != nil {
		return err
	}
	in.say("hvmigrate %s, installed %s, updated %s", m.Release, m.InstalledAt.Format("2006-01-02 15:04 MST"), m.UpdatedAt.Format("2006-01-02 15:04 MST"))
	if m.Offline {
		in.say("offline installation under %s: user %s recorded, not created", in.l.Root, m.User)
	}
	for _, b := range m.Binaries {
		state := "ok"
		switch sum := fileSum(in.l.At(b.Path)); {
		case sum == "":
			state = "missing"
		case sum != b.SHA256:
			state = "modified since install"
		}
		in.say("binary  %s: %s", b.Path, state)
	}
	for _, s := range m.Services {
		in.say("service %s: %s", s.Name, in.cfg.Platform.ServiceState(ctx, s.Name))
	}
	for _, c := range m.Config {
		state := "present"
		if _, err := os.Stat(in.l.At(c)); err != nil {
			state = "missing"
		}
		in.say("config  %s: %s", c, state)
	}
	reg := "not registered (hvm-setup register --key FILE)"
	if in.registered() {
		reg = "registered"
	}
	in.say("host    %s: %s", in.l.IdentityDir, reg)
	return nil
}
