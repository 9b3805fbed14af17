package units

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// TimeOfDay is minutes after local midnight, 0 to 24*60.
type TimeOfDay int

// ParseTimeOfDay parses "HH:MM" (00:00 to 24:00).
func ParseTimeOfDay(s string) (TimeOfDay, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || len(m) != 2 || err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh*60+mm > 24*60 {
		return 0, fmt.Errorf("time of day %q: want HH:MM between 00:00 and 24:00", s)
	}
	return TimeOfDay(hh*60 + mm), nil
}

// String prints HH:MM.
func (t TimeOfDay) String() string {
	return fmt.Sprintf("%02d:%02d", int(t)/60, int(t)%60)
}

// Weekdays is a set of days, bit i for time.Weekday(i).
type Weekdays uint8

// MondayToFriday is the usual working week.
const MondayToFriday Weekdays = 1<<time.Monday | 1<<time.Tuesday | 1<<time.Wednesday | 1<<time.Thursday | 1<<time.Friday

// Has reports whether d is in the set.
func (w Weekdays) Has(d time.Weekday) bool {
	return w&(1<<d) != 0
}

// ParseWeekdays parses a comma-separated list of days or ranges of
// three-letter names, e.g. "Mon-Fri" or "Mon,Wed,Sat-Sun".
func ParseWeekdays(s string) (Weekdays, error) {
	var w Weekdays
	for part := range strings.SplitSeq(s, ",") {
		from, to, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := parseDay(from)
		if err != nil {
			return 0, fmt.Errorf("weekdays %q: %w", s, err)
		}
		b := a
		if isRange {
			if b, err = parseDay(to); err != nil {
				return 0, fmt.Errorf("weekdays %q: %w", s, err)
			}
		}
		for d := a; ; d = (d + 1) % 7 {
			w |= 1 << d
			if d == b {
				break
			}
		}
	}
	return w, nil
}

func parseDay(s string) (time.Weekday, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	for d := time.Sunday; d <= time.Saturday; d++ {
		if len(s) >= 3 && strings.HasPrefix(strings.ToLower(d.String()), s) {
			return d, nil
		}
	}
	return 0, fmt.Errorf("unknown day %q", s)
}

// String lists the days, e.g. "Mon,Tue,Wed".
func (w Weekdays) String() string {
	var names []string
	for d := time.Sunday; d <= time.Saturday; d++ {
		if w.Has(d) {
			names = append(names, d.String()[:3])
		}
	}
	return strings.Join(names, ",")
}

// Schedule is the host throttle: WorkHours applies on WorkDays from Start
// to End (wall-clock time in Location), OffHours at all other times. A
// window with End before Start runs past midnight into the next day.
type Schedule struct {
	WorkHours Bandwidth
	OffHours  Bandwidth
	WorkDays  Weekdays
	Start     TimeOfDay
	End       TimeOfDay
	Location  *time.Location // nil means UTC
}

// ErrEmptyWindow reports a work window that starts where it ends.
var ErrEmptyWindow = errors.New("work hours start and end at the same time")

// Validate checks both limits and the window.
func (s Schedule) Validate() error {
	if err := s.WorkHours.Validate(); err != nil {
		return fmt.Errorf("work-hours limit: %w", err)
	}
	if err := s.OffHours.Validate(); err != nil {
		return fmt.Errorf("non-work-hours limit: %w", err)
	}
	if s.Start < 0 || s.Start > 24*60 || s.End < 0 || s.End > 24*60 {
		return fmt.Errorf("work hours %v-%v out of range", s.Start, s.End)
	}
	if s.Start == s.End && s.WorkDays != 0 {
		return ErrEmptyWindow
	}
	return nil
}

// LimitAt returns the limit in force at t.
func (s Schedule) LimitAt(t time.Time) Bandwidth {
	if s.inWorkHours(t) {
		return s.WorkHours
	}
	return s.OffHours
}

func (s Schedule) inWorkHours(t time.Time) bool {
	loc := s.Location
	if loc == nil {
		loc = time.UTC
	}
	t = t.In(loc)
	tod := TimeOfDay(t.Hour()*60 + t.Minute())
	day := t.Weekday()
	if s.Start < s.End {
		return s.WorkDays.Has(day) && tod >= s.Start && tod < s.End
	}
	// Overnight window: the evening part belongs to today, the morning
	// part to the work day before.
	return (s.WorkDays.Has(day) && tod >= s.Start) || (s.WorkDays.Has((day+6)%7) && tod < s.End)
}
