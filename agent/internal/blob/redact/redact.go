// Package redact keeps SAS signatures and keys out of error text. The SDK's
// transport errors (*url.Error) carry the full request URL, SAS query
// included; String strips URL queries and SAS parameters from any text,
// Error rebuilds an error from redacted text while keeping its class, and
// New wraps a blob.Store so that every error it returns is redacted.
package redact

import (
	"context"
	"errors"
	"regexp"

	"hvmigrate/agent/internal/blob"
)

// Placeholder replaces every removed value.
const Placeholder = "REDACTED"

var (
	// urlQuery matches the query part of an http(s) URL.
	urlQuery = regexp.MustCompile(`(?i)(https?://[^\s"'<>?]*)\?[^\s"'<>]*`)
	// sasParam matches SAS query parameters that may appear outside a URL.
	sasParam = regexp.MustCompile(`(?i)\b(sig|se|st|sp|sv|sr|spr|sip|si|ss|srt|skoid|sktid|skt|ske|sks|skv|saoid|suoid|scid|sdd|ses)=[^&\s"'<>]*`)
	// sharedKey matches an Authorization header value or account key pair.
	sharedKey = regexp.MustCompile(`(?i)\b(SharedKey(?:Lite)?\s+[^:\s]+:|AccountKey=|Bearer\s+)[^;\s"'<>]*`)
)

// String returns s with URL queries, SAS parameters and shared-key
// signatures replaced by Placeholder.
func String(s string) string {
	s = urlQuery.ReplaceAllString(s, "${1}?"+Placeholder)
	s = sasParam.ReplaceAllString(s, "${1}="+Placeholder)
	return sharedKey.ReplaceAllString(s, "${1}"+Placeholder)
}

// keep lists the errors whose identity survives redaction.
var keep = []error{
	blob.ErrNotFound, blob.ErrExists, blob.ErrConditionNotMet, blob.ErrThrottled,
	blob.ErrTransient, blob.ErrChecksum, blob.ErrDenied, blob.ErrInvalid,
	context.Canceled, context.DeadlineExceeded,
}

// Error returns err with its text redacted. A *blob.Error keeps its fields
// (redacted) and class; for other errors the known classes and context
// errors stay visible to errors.Is, nothing else from the chain does, so an
// errors.As to *url.Error cannot reach the secret.
func Error(err error) error {
	if err == nil {
		return nil
	}
	var be *blob.Error
	if errors.As(err, &be) {
		c := *be
		c.Name = String(c.Name)
		if c.Err != nil {
			c.Err = scrubbed(c.Err)
		}
		return &c
	}
	return scrubbed(err)
}

func scrubbed(err error) error {
	r := &redacted{msg: String(err.Error())}
	for _, k := range keep {
		if errors.Is(err, k) {
			r.classes = append(r.classes, k)
		}
	}
	return r
}

// redacted is an error whose text has been cleaned and whose chain holds
// only well-known sentinel errors.
type redacted struct {
	msg     string
	classes []error
}

func (r *redacted) Error() string   { return r.msg }
func (r *redacted) Unwrap() []error { return r.classes }
