package azure_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"hvmigrate/hub/internal/storage"
	"hvmigrate/hub/internal/storage/azure"
	"hvmigrate/shared/secret"
	"hvmigrate/shared/storeerr"
)

// pageLists answers Get Page Ranges with one page per marker: "" is the
// first page, and a page names the marker of the next.
func pageLists(t *testing.T, pages map[string]string) (*azure.Store, *[]*http.Request) {
	var reqs []*http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqs = append(reqs, r)
		body, ok := pages[r.URL.Query().Get("marker")]
		if !ok || r.URL.Query().Get("comp") != "pagelist" {
			w.Header().Set("x-ms-error-code", "InvalidQueryParameterValue")
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?><PageList>%s</PageList>`, body)
	}))
	t.Cleanup(srv.Close)
	cfg := azure.DefaultConfig()
	cfg.Endpoint, cfg.AllowHTTP = srv.URL+"/acct", true
	cfg.Credential = azure.SharedKey("acct", secret.New(devKey))
	s, err := azure.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, &reqs
}

// pageRange renders one inclusive page range.
func pageRange(start, end int64) string {
	return fmt.Sprintf("<PageRange><Start>%d</Start><End>%d</End></PageRange>", start, end)
}

func TestStore_PageRanges_stopsAtFirstPageWithRanges(t *testing.T) {
	s, reqs := pageLists(t, map[string]string{
		"":   "<NextMarker>m1</NextMarker>", // an empty page with a continuation
		"m1": pageRange(1024, 2047) + pageRange(2048, 2559) + pageRange(4096, 4607) + "<NextMarker>m2</NextMarker>",
		"m2": pageRange(8192, 8703),
	})
	got, next, err := s.PageRanges(context.Background(), "ctr/d", "2026-01-01T00:00:00.0000000Z", 512, 16384, 10)
	want := []storage.Range{{Off: 1024, N: 1536}, {Off: 4096, N: 512}}
	if err != nil || !slices.Equal(got, want) || next != 4608 {
		t.Fatalf("PageRanges = %v, %d, %v; want %v, 4608", got, next, err, want)
	}
	if len(*reqs) != 2 {
		t.Fatalf("%d requests, want 2 (the empty page and the first with ranges)", len(*reqs))
	}
	r := (*reqs)[0]
	if q := r.URL.Query(); q.Get("maxresults") != "10" || q.Get("snapshot") == "" || r.Header.Get("x-ms-range") != "bytes=512-16895" {
		t.Fatalf("request %s with range %q: want maxresults, snapshot and the window", r.URL.RawQuery, r.Header.Get("x-ms-range"))
	}
	got, next, err = s.PageRanges(context.Background(), "ctr/d", "", 0, 16384, 1)
	if err != nil || !slices.Equal(got, []storage.Range{{Off: 1024, N: 1536}}) || next != 2560 {
		t.Fatalf("PageRanges with limit 1 = %v, %d, %v; want the first range and 2560", got, next, err)
	}
}

func TestStore_PageRanges_lastPage_windowDone(t *testing.T) {
	s, _ := pageLists(t, map[string]string{"": pageRange(0, 511) + pageRange(16384, 20479)})
	got, next, err := s.PageRanges(context.Background(), "ctr/d", "", 0, 8192, 10)
	if err != nil || !slices.Equal(got, []storage.Range{{Off: 0, N: 512}}) || next != 8192 {
		t.Fatalf("PageRanges = %v, %d, %v; want [0+512] clipped to the window, 8192", got, next, err)
	}
}

func TestStore_PageRanges_errorClassRedacted(t *testing.T) {
	s, n := answering(t, http.StatusNotFound, nil, "BlobNotFound")
	_, _, err := s.PageRanges(context.Background(), "ctr/b", "", 0, 512, 1)
	if !errors.Is(err, storeerr.ErrNotFound) || *n != 1 || strings.Contains(err.Error(), devKey) {
		t.Fatalf("PageRanges on 404: %v after %d requests", err, *n)
	}
	_, _, err = s.PageRanges(context.Background(), "ctr/b", "", 0, 700, 1)
	if !errors.Is(err, storeerr.ErrInvalid) || *n != 1 {
		t.Fatalf("PageRanges of an unaligned window: %v after %d requests", err, *n)
	}
}
