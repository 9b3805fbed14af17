package hostlimits

import (
	"golang.org/x/sys/windows/registry"
)

// RegistryThreads returns the UploadThreadsPerVM value Site Recovery
// operators set under HKLM\SOFTWARE\Microsoft\Windows Azure
// Backup\Replication, or 0 when it is not set. Untested on Windows here.
func RegistryThreads() int {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, `SOFTWARE\Microsoft\Windows Azure Backup\Replication`, registry.QUERY_VALUE)
	if err != nil {
		return 0
	}
	defer k.Close()
	v, _, err := k.GetIntegerValue("UploadThreadsPerVM")
	if err != nil || v == 0 || v > MaxThreads {
		return 0
	}
	return int(v)
}
