//go:build nopayload

package payload

import "embed"

// embedded is empty in the build that goes into the .deb, whose package
// installs the binaries itself: that hvm-setup reports and registers but
// refuses to install.
var embedded embed.FS
