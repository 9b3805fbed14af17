package hostlimits

import (
	"encoding/json"
	"errors"
	"testing"

	"hvmigrate/shared/units"
)

type mapStore map[string][]byte

func (m mapStore) GetSetting(name string, v any) (bool, error) {
	b, ok := m[name]
	if !ok {
		return false, nil
	}
	return true, json.Unmarshal(b, v)
}

func (m mapStore) PutSetting(name string, v any) error {
	b, err := json.Marshal(v)
	m[name] = b
	return err
}

type fakeThrottle struct{ s units.Schedule }

func (f *fakeThrottle) Set(s units.Schedule) error { f.s = s; return nil }
func (f *fakeThrottle) Limit() units.Bandwidth     { return f.s.WorkHours }

func TestSettings_Schedule_rejects(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Settings)
	}{
		{"threads zero", func(s *Settings) { s.ThreadsPerVM = 0 }},
		{"threads 33", func(s *Settings) { s.ThreadsPerVM = 33 }},
		{"work limit below 512Kbps", func(s *Settings) { s.WorkHours = 100 * units.Kbps }},
		{"off limit above 1023Mbps", func(s *Settings) { s.OffHours = 2 * units.Gbps }},
		{"unknown zone", func(s *Settings) { s.TimeZone = "Mars/Olympus" }},
		{"empty window", func(s *Settings) { s.Start, s.End = 600, 600 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Default()
			tt.change(&s)
			if _, err := s.Schedule(); !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestLimits_SetPersistsAndApplies(t *testing.T) {
	store, th := mapStore{}, &fakeThrottle{}
	l, err := Load(store, th, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Threads(0); got != DefaultThreads {
		t.Fatalf("default threads %d", got)
	}
	s := Default()
	s.WorkHours, s.ThreadsPerVM, s.TimeZone = 10*units.Mbps, 8, "Europe/Berlin"
	if err := l.Set(s); err != nil {
		t.Fatal(err)
	}
	if th.s.WorkHours != 10*units.Mbps || th.s.Location.String() != "Europe/Berlin" {
		t.Fatalf("throttle got %+v", th.s)
	}
	bad := s
	bad.WorkHours = 1
	if err := l.Set(bad); err == nil {
		t.Fatal("accepted a limit of 1 bit/s")
	}
	l2, err := Load(store, &fakeThrottle{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := l2.Get()
	if got != s {
		t.Fatalf("reloaded %+v, want %+v", got, s)
	}
	if l2.Threads(0) != 8 || l2.Threads(100) != MaxThreads || l2.Threads(2) != 2 {
		t.Fatal("thread clamping")
	}
}

func TestLoad_fallbackThreads(t *testing.T) {
	l, err := Load(mapStore{}, &fakeThrottle{}, 12)
	if err != nil {
		t.Fatal(err)
	}
	if l.Threads(0) != 12 {
		t.Fatalf("threads %d, want the fallback 12", l.Threads(0))
	}
}
