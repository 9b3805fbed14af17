package storeerr

import (
	"context"
	"errors"
	"regexp"
)

// Placeholder replaces every value redaction removes.
const Placeholder = "REDACTED"

var (
	// urlQuery matches the query part of an http(s) URL.
	urlQuery = regexp.MustCompile(`(?i)(https?://[^\s"'<>?]*)\?[^\s"'<>]*`)
	// sasParam matches SAS query parameters that may appear outside a URL.
	sasParam = regexp.MustCompile(`(?i)\b(sig|se|st|sp|sv|sr|spr|sip|si|ss|srt|skoid|sktid|skt|ske|sks|skv|saoid|suoid|scid|sdd|ses)=[^&\s"'<>]*`)
	// sharedKey matches an Authorization header value or account key pair.
	sharedKey = regexp.MustCompile(`(?i)\b(SharedKey(?:Lite)?\s+[^:\s]+:|AccountKey=|Bearer\s+)[^;\s"'<>]*`)
)

// Redact returns s with URL queries, SAS parameters and shared-key
// signatures replaced by Placeholder. The SDK's transport errors
// (*url.Error) carry the full request URL, SAS query included.
func Redact(s string) string {
	s = urlQuery.ReplaceAllString(s, "${1}?"+Placeholder)
	s = sasParam.ReplaceAllString(s, "${1}="+Placeholder)
	return sharedKey.ReplaceAllString(s, "${1}"+Placeholder)
}

// keep lists the errors whose identity survives redaction.
var keep = []error{
	ErrNotFound, ErrExists, ErrConditionNotMet, ErrThrottled,
	ErrTransient, ErrChecksum, ErrDenied, ErrInvalid,
	context.Canceled, context.DeadlineExceeded,
}

// RedactError returns err with its text redacted. An *Error keeps its
// fields (redacted) and class; for other errors the classes and context
// errors stay visible to errors.Is, nothing else from the chain does, so an
// errors.As to *url.Error cannot reach the secret.
func RedactError(err error) error {
	if err == nil {
		return nil
	}
	var se *Error
	if errors.As(err, &se) {
		c := *se
		c.Name = Redact(c.Name)
		if c.Err != nil {
			c.Err = scrubbed(c.Err)
		}
		return &c
	}
	return scrubbed(err)
}

func scrubbed(err error) error {
	r := &redacted{msg: Redact(err.Error())}
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
