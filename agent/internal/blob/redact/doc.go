// Package redact keeps SAS signatures and keys out of the errors of a
// blob.Store: New wraps a Store so that every error it returns is redacted
// with storeerr.RedactError, which keeps its class. The SDK's transport
// errors (*url.Error) carry the full request URL, SAS query included.
package redact
