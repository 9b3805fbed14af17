package storeerr_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"hvmigrate/shared/storeerr"
)

func TestError_classAndText(t *testing.T) {
	err := fmt.Errorf("upload: %w", &storeerr.Error{Op: "write pages", Name: "d.vhd", Status: 503, Code: "ServerBusy",
		Class: storeerr.ErrThrottled, RetryAfter: 2 * time.Second, Err: errors.New("busy")})
	if !errors.Is(err, storeerr.ErrThrottled) || !storeerr.Retryable(err) || storeerr.RetryAfter(err) != 2*time.Second {
		t.Fatalf("class lost: %v", err)
	}
	if want := "upload: write pages d.vhd: status 503 ServerBusy: throttled by storage: busy"; err.Error() != want {
		t.Fatalf("text %q", err.Error())
	}
	for _, c := range []error{storeerr.ErrNotFound, storeerr.ErrExists, storeerr.ErrDenied, storeerr.ErrInvalid, storeerr.ErrConditionNotMet} {
		if storeerr.Retryable(&storeerr.Error{Class: c}) {
			t.Errorf("%v is retryable", c)
		}
	}
	for _, c := range []error{storeerr.ErrThrottled, storeerr.ErrTransient, storeerr.ErrChecksum} {
		if !storeerr.Retryable(&storeerr.Error{Class: c}) {
			t.Errorf("%v is not retryable", c)
		}
	}
}
