package units_test

import (
	"testing"
	"time"
	_ "time/tzdata" // zones in tests must not depend on the machine

	"hvmigrate/shared/units"
)

func TestParseTimeOfDay(t *testing.T) {
	for in, want := range map[string]units.TimeOfDay{"08:00": 480, "00:00": 0, "24:00": 1440, "17:30": 1050} {
		if got, err := units.ParseTimeOfDay(in); err != nil || got != want {
			t.Errorf("%q = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"8", "25:00", "24:01", "12:60", "12:5", "-1:00", "ab:cd"} {
		if _, err := units.ParseTimeOfDay(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

func TestParseWeekdays(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"Mon-Fri", "Mon,Tue,Wed,Thu,Fri"},
		{"sat-sun", "Sun,Sat"},
		{"Fri-Mon", "Sun,Mon,Fri,Sat"},
		{"Mon, Wed ,Friday", "Mon,Wed,Fri"},
	}
	for _, tt := range tests {
		got, err := units.ParseWeekdays(tt.in)
		if err != nil || got.String() != tt.want {
			t.Errorf("%q = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
	if _, err := units.ParseWeekdays("Mon-Funday"); err == nil {
		t.Error("bad day accepted")
	}
}

func TestSchedule_LimitAt(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	day := units.Schedule{
		WorkHours: 10 * units.Mbps, OffHours: units.Unlimited,
		WorkDays: units.MondayToFriday, Start: 8 * 60, End: 18 * 60, Location: ny,
	}
	night := day
	night.Start, night.End = 22*60, 6*60
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, ny)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		name string
		s    units.Schedule
		t    time.Time
		want units.Bandwidth
	}{
		{"weekday morning", day, at("2026-11-23 08:00"), 10 * units.Mbps}, // Monday
		{"before start", day, at("2026-11-23 07:59"), units.Unlimited},
		{"end is exclusive", day, at("2026-11-23 18:00"), units.Unlimited},
		{"saturday", day, at("2026-11-28 12:00"), units.Unlimited},
		{"utc instant converted", day, time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC), 10 * units.Mbps}, // 09:00 EST
		{"utc instant outside", day, time.Date(2026, 11, 23, 12, 59, 0, 0, time.UTC), units.Unlimited},  // 07:59 EST
		{"after DST change", day, time.Date(2026, 3, 9, 12, 30, 0, 0, time.UTC), 10 * units.Mbps},       // 08:30 EDT Monday
		{"overnight evening", night, at("2026-11-27 23:00"), 10 * units.Mbps},                           // Friday night
		{"overnight morning after friday", night, at("2026-11-28 05:59"), 10 * units.Mbps},              // Saturday early
		{"overnight morning after saturday", night, at("2026-11-29 05:00"), units.Unlimited},            // Sunday early
		{"overnight midday", night, at("2026-11-24 12:00"), units.Unlimited},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.LimitAt(tt.t); got != tt.want {
				t.Fatalf("LimitAt(%v) = %v, want %v", tt.t, got, tt.want)
			}
		})
	}
}

func TestSchedule_Validate(t *testing.T) {
	ok := units.Schedule{WorkHours: units.MinBandwidth, OffHours: units.Unlimited, WorkDays: units.MondayToFriday, Start: 480, End: 1080}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := []units.Schedule{ok, ok, ok}
	bad[0].WorkHours = 100 * units.Kbps
	bad[1].OffHours = 2 * units.Gbps
	bad[2].End = bad[2].Start
	for i, s := range bad {
		if err := s.Validate(); err == nil {
			t.Errorf("case %d accepted", i)
		} else {
			t.Log(err)
		}
	}
}
