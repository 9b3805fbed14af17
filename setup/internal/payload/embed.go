//go:build !nopayload

package payload

import "embed"

// embedded is the payload directory as it was when the installer was built.
//
//go:embed files
var embedded embed.FS
