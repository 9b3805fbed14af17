package storage

import "regexp"

// Placeholder replaces every removed value in error text.
const Placeholder = "REDACTED"

var (
	// urlQuery matches the query part of an http(s) URL.
	urlQuery = regexp.MustCompile(`(?i)(https?://[^\s"'<>?]*)\?[^\s"'<>]*`)
	// sasParam matches SAS query parameters outside a URL.
	sasParam = regexp.MustCompile(`(?i)\b(sig|se|st|sp|sv|sr|spr|sip|si|ss|srt|skoid|sktid|skt|ske|sks|skv|saoid|suoid|scid|sdd|ses)=[^&\s"'<>]*`)
	// sharedKey matches an Authorization value or an account key pair.
	sharedKey = regexp.MustCompile(`(?i)\b(SharedKey(?:Lite)?\s+[^:\s]+:|AccountKey=|Bearer\s+)[^;\s"'<>]*`)
)

// Redact returns s with URL queries, SAS parameters and shared-key
// signatures replaced by Placeholder.
func Redact(s string) string {
	s = urlQuery.ReplaceAllString(s, "${1}?"+Placeholder)
	s = sasParam.ReplaceAllString(s, "${1}="+Placeholder)
	return sharedKey.ReplaceAllString(s, "${1}"+Placeholder)
}
