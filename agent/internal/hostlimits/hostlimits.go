// Package hostlimits holds the host-wide upload limits an administrator or
// the hub sets: the throttle schedule (a work-hours and a non-work-hours
// bandwidth limit) and the default upload threads per VM. It validates
// them, keeps them in the agent's state file, and applies them to the
// running throttle at once.
package hostlimits

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"hvmigrate/shared/units"
)

// Threads per VM: the default and the range.
const (
	DefaultThreads = 4
	MaxThreads     = 32
)

// ErrInvalid marks settings that are out of range.
var ErrInvalid = errors.New("invalid host limits")

// Settings are the host-wide limits in their stored form.
type Settings struct {
	WorkHours    units.Bandwidth `json:"work_hours_bps"`
	OffHours     units.Bandwidth `json:"non_work_hours_bps"`
	WorkDays     units.Weekdays  `json:"work_days"`
	Start        units.TimeOfDay `json:"work_start_minutes"`
	End          units.TimeOfDay `json:"work_end_minutes"`
	TimeZone     string          `json:"time_zone,omitempty"`
	ThreadsPerVM int             `json:"threads_per_vm"`
}

// Default is unlimited at all hours, Monday to Friday 08:00-18:00 as the
// work window, and 4 threads per VM.
func Default() Settings {
	return Settings{
		WorkHours: units.Unlimited, OffHours: units.Unlimited,
		WorkDays: units.MondayToFriday, Start: 8 * 60, End: 18 * 60,
		ThreadsPerVM: DefaultThreads,
	}
}

// Schedule validates the settings and returns the throttle schedule.
func (s Settings) Schedule() (units.Schedule, error) {
	if s.ThreadsPerVM < 1 || s.ThreadsPerVM > MaxThreads {
		return units.Schedule{}, fmt.Errorf("%w: threads per VM %d: want 1 to %d", ErrInvalid, s.ThreadsPerVM, MaxThreads)
	}
	loc := time.Local
	if s.TimeZone != "" {
		var err error
		if loc, err = time.LoadLocation(s.TimeZone); err != nil {
			return units.Schedule{}, fmt.Errorf("%w: time zone %q: %w", ErrInvalid, s.TimeZone, err)
		}
	}
	sch := units.Schedule{WorkHours: s.WorkHours, OffHours: s.OffHours, WorkDays: s.WorkDays, Start: s.Start, End: s.End, Location: loc}
	if err := sch.Validate(); err != nil {
		return units.Schedule{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return sch, nil
}

// Store persists settings.
type Store interface {
	GetSetting(name string, v any) (bool, error)
	PutSetting(name string, v any) error
}

// Throttle is the running limiter the settings drive.
type Throttle interface {
	Set(units.Schedule) error
	Limit() units.Bandwidth
}

const settingName = "host_limits"

// Limits is the live view of the settings.
type Limits struct {
	store    Store
	throttle Throttle
	current  atomic.Pointer[Settings]
}

// Load reads the stored settings (defaults when none were stored, and the
// Windows registry's thread count where one is set) and applies them.
func Load(store Store, th Throttle, fallbackThreads int) (*Limits, error) {
	s := Default()
	if fallbackThreads > 0 {
		s.ThreadsPerVM = min(fallbackThreads, MaxThreads)
	}
	if _, err := store.GetSetting(settingName, &s); err != nil {
		return nil, fmt.Errorf("read host limits: %w", err)
	}
	l := &Limits{store: store, throttle: th}
	if err := l.apply(s); err != nil {
		return nil, err
	}
	return l, nil
}

// Set validates, stores and applies new settings.
func (l *Limits) Set(s Settings) error {
	if _, err := s.Schedule(); err != nil {
		return err
	}
	if err := l.store.PutSetting(settingName, s); err != nil {
		return fmt.Errorf("store host limits: %w", err)
	}
	return l.apply(s)
}

func (l *Limits) apply(s Settings) error {
	sch, err := s.Schedule()
	if err != nil {
		return err
	}
	if err := l.throttle.Set(sch); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	l.current.Store(&s)
	return nil
}

// Get returns the settings and the limit in force now.
func (l *Limits) Get() (Settings, units.Bandwidth) {
	return *l.current.Load(), l.throttle.Limit()
}

// Threads returns the upload threads per VM for a job that asked for n
// (0 means the host default), within 1 to MaxThreads.
func (l *Limits) Threads(n int) int {
	if n <= 0 {
		n = l.current.Load().ThreadsPerVM
	}
	return min(max(n, 1), MaxThreads)
}
