//go:build !windows

package layout

const exeSuffix = ""

func defaults() Layout {
	return Layout{
		Base:          "/opt/hvmigrate",
		BinDir:        "/opt/hvmigrate/bin",
		ConfigDir:     "/etc/hvmigrate",
		StateDir:      "/var/lib/hvmigrate",
		AgentState:    "/var/lib/hvmigrate/agent",
		ProviderDir:   "/var/lib/hvmigrate/provider",
		IdentityDir:   "/var/lib/hvmigrate/provider/identity",
		ProviderState: "/var/lib/hvmigrate/provider/state.db",
		AgentEndpoint: "/run/hvmigrate/agent.sock",
		UnitDir:       "/etc/systemd/system",
		Manifest:      "/opt/hvmigrate/install.json",
	}
}
