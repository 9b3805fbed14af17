// Package cluster runs the whole of hvmigrate as real processes for the
// end-to-end suites: the storage emulator over HTTPS, hvm-hub (driven with
// hvmctl), hvm-simhost with VMs, and hvm-agent and hvm-provider registered
// with a one-time key; optionally with toxiproxy between the agent and
// storage and between the provider and the hub. Every process writes its
// log under the cluster's directory, can be killed with SIGKILL and
// restarted, and the cluster offers the checks the suites share: a
// recovery point's disks against the simulated host's checksums at the
// log switch its cycle was cut at.
package cluster
