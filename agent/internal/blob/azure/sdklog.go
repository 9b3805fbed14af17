package azure

import (
	azlog "github.com/Azure/azure-sdk-for-go/sdk/azcore/log"
	"github.com/hashicorp/go-hclog"

	"hvmigrate/shared/storeerr"
)

// LogListener returns a listener for the SDK's own log (pass it to
// azcore/log.SetListener in main) that writes each entry to l at trace
// level, redacted: the SDK's retry policy logs transport errors verbatim,
// and those carry the request URL with its SAS signature.
func LogListener(l hclog.Logger) func(azlog.Event, string) {
	return func(e azlog.Event, msg string) {
		l.Trace("azure sdk", "event", string(e), "message", storeerr.Redact(msg))
	}
}
