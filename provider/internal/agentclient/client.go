// Package agentclient is the provider's typed client for the local agent:
// it dials the agent's socket or pipe, handshakes, and keeps the link up
// across agent restarts. Callers see plain Go types and error classes, never
// generated protobuf messages.
package agentclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	agentv1 "hvmigrate/shared/gen/hvmigrate/agent/v1"
	"hvmigrate/shared/ipc"
	"hvmigrate/shared/secret"
	"hvmigrate/shared/units"
	"hvmigrate/shared/version"
)

var (
	// ErrProtocolMismatch means the agent and the provider speak protocol
	// versions that do not overlap.
	ErrProtocolMismatch = errors.New("agent protocol mismatch")
	// ErrUnavailable means the agent could not be reached.
	ErrUnavailable = errors.New("agent unavailable")
)

// Session is what the agent said in the handshake.
type Session struct {
	ProtocolVersion uint32
	AgentVersion    string
	Capabilities    []string
	InstanceID      string
}

// Status is the agent's report of itself.
type Status struct {
	AgentVersion string
	InstanceID   string
	PID          int64
	ActiveJobs   uint32
	ShuttingDown bool
}

// Client is one gRPC connection to the agent.
type Client struct {
	conn *grpc.ClientConn
	api  agentv1.AgentServiceClient
}

// Dial prepares a connection to the agent at endpoint. It does not connect
// until the first call. The local wire carries no TLS: the socket's
// directory and mode (or the pipe's ACL) are its protection.
func Dial(endpoint string) (*Client, error) {
	dialer := func(ctx context.Context, _ string) (net.Conn, error) { return ipc.Dial(ctx, endpoint) }
	conn, err := grpc.NewClient("passthrough:///hvm-agent",
		grpc.WithContextDialer(dialer),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(4<<20)),
	)
	if err != nil {
		return nil, fmt.Errorf("agent client for %s: %w", endpoint, err)
	}
	return &Client{conn: conn, api: agentv1.NewAgentServiceClient(conn)}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Handshake opens a session speaking protocol, the provider's own protocol
// version unless a test asks for another.
func (c *Client) Handshake(ctx context.Context, protocol uint32) (Session, error) {
	resp, err := c.api.Handshake(ctx, &agentv1.HandshakeRequest{
		ProtocolVersion: protocol,
		ProviderVersion: version.Release(),
	})
	if err != nil {
		return Session{}, fromStatus(err, protocol)
	}
	if p := resp.GetProtocolVersion(); p < version.MinAgentProtocol || p > version.AgentProtocol {
		return Session{}, fmt.Errorf("%w: agent %s answered with protocol %d, provider %s speaks %d..%d",
			ErrProtocolMismatch, resp.GetAgentVersion(), p, version.Release(), version.MinAgentProtocol, version.AgentProtocol)
	}
	return Session{
		ProtocolVersion: resp.GetProtocolVersion(),
		AgentVersion:    resp.GetAgentVersion(),
		Capabilities:    resp.GetCapabilities(),
		InstanceID:      resp.GetInstanceId(),
	}, nil
}

// Status asks the agent for its state.
func (c *Client) Status(ctx context.Context) (Status, error) {
	resp, err := c.api.GetStatus(ctx, &agentv1.GetStatusRequest{})
	if err != nil {
		return Status{}, fromStatus(err, version.AgentProtocol)
	}
	return Status{
		AgentVersion: resp.GetAgentVersion(),
		InstanceID:   resp.GetInstanceId(),
		PID:          resp.GetPid(),
		ActiveJobs:   resp.GetActiveJobs(),
		ShuttingDown: resp.GetShuttingDown(),
	}, nil
}

// Shutdown asks the agent to stop gracefully.
func (c *Client) Shutdown(ctx context.Context, reason string) error {
	if _, err := c.api.Shutdown(ctx, &agentv1.ShutdownRequest{Reason: reason}); err != nil {
		return fromStatus(err, version.AgentProtocol)
	}
	return nil
}

// fromStatus maps the agent's wire errors back to error classes.
func fromStatus(err error, protocol uint32) error {
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	for _, d := range st.Details() {
		info, ok := d.(*errdetails.ErrorInfo)
		if ok && info.GetReason() == agentv1.ErrorReason_ERROR_REASON_PROTOCOL_MISMATCH.String() {
			return fmt.Errorf("%w: provider %s speaks protocol %d; agent %s supports %s..%s",
				ErrProtocolMismatch, version.Release(), protocol, info.GetMetadata()["agent_version"],
				info.GetMetadata()["agent_protocol_min"], info.GetMetadata()["agent_protocol_max"])
		}
	}
	if st.Code() == codes.Unavailable || st.Code() == codes.DeadlineExceeded {
		return fmt.Errorf("%w: %s", ErrUnavailable, st.Message())
	}
	return fmt.Errorf("agent: %s: %s", st.Code(), st.Message())
}

// Error classes of transfer calls and failed jobs, mapped back from the
// agent's ErrorInfo reasons.
var (
	// ErrInvalidArgument: a request field is invalid.
	ErrInvalidArgument = errors.New("agent refused the request as invalid")
	// ErrJobNotFound: the agent knows no job with the id.
	ErrJobNotFound = errors.New("agent job not found")
	// ErrJobConflict: the job id was used for different work.
	ErrJobConflict = errors.New("agent job id used for different work")
	// ErrSourceMissing: a source disk or log is missing.
	ErrSourceMissing = errors.New("source missing")
	// ErrSourceCorrupt: a source disk or log is corrupt or not closed.
	ErrSourceCorrupt = errors.New("source corrupt")
	// ErrStorageAuth: storage refused the SAS; ask the hub for a new one.
	ErrStorageAuth = errors.New("storage refused the SAS")
	// ErrStorageUnavailable: storage kept failing after every retry.
	ErrStorageUnavailable = errors.New("storage unavailable")
)

// JobState is where an agent job stands.
type JobState string

// Job states.
const (
	JobQueued    JobState = "queued"
	JobRunning   JobState = "running"
	JobSucceeded JobState = "succeeded"
	JobFailed    JobState = "failed"
	JobCancelled JobState = "cancelled"
)

// Final reports whether the job has stopped.
func (s JobState) Final() bool { return s == JobSucceeded || s == JobFailed || s == JobCancelled }

// Job is an agent job's state and counters.
type Job struct {
	ID, Kind, VMID string
	State          JobState
	Cycle          uint64
	// Byte counters: of the virtual disk (copy) or of logged writes (cycle).
	BytesTotal, BytesDone, BytesSkipped, BytesSent int64
	SavedCoalescing, SavedCompression              int64
	RateBytesPerSecond                             int64
	// ETA is negative when unknown.
	ETA     time.Duration
	Retries int64
	// Err is why the job failed, wrapping its error class.
	Err              error
	Started, Updated time.Time
}

// InitialCopy asks for one frozen disk to be copied into its page blob.
type InitialCopy struct {
	JobID, VMID, DiskID, DiskPath string
	Target                        secret.String
	Threads                       int
}

// CycleDisk is one disk's share of a cycle upload.
type CycleDisk struct {
	DiskID      string
	Logs        []string
	VirtualSize int64
	Target      secret.String
}

// CycleUpload asks for a cycle's delta objects to be built and uploaded.
type CycleUpload struct {
	JobID, VMID     string
	Cycle, Previous uint64
	Disks           []CycleDisk
	Threads         int
}

// Throttle is the host-wide upload limits.
type Throttle struct {
	WorkHours, NonWorkHours units.Bandwidth
	WorkDays                []time.Weekday
	// WorkStart and WorkEnd are "HH:MM" in TimeZone (empty: the host's).
	WorkStart, WorkEnd, TimeZone string
	ThreadsPerVM                 int
}

// StartInitialCopy starts a copy job, or returns the one known by its id.
func (c *Client) StartInitialCopy(ctx context.Context, spec InitialCopy) (Job, error) {
	resp, err := c.api.StartInitialCopy(ctx, &agentv1.StartInitialCopyRequest{
		JobId: spec.JobID, VmId: spec.VMID, DiskId: spec.DiskID, DiskPath: spec.DiskPath,
		TargetUrl: spec.Target.Reveal(), Threads: uint32(max(spec.Threads, 0)),
	})
	if err != nil {
		return Job{}, fromJobStatus(err)
	}
	return toJob(resp.GetJob()), nil
}

// StartCycleUpload starts a cycle upload job, or returns the one known.
func (c *Client) StartCycleUpload(ctx context.Context, spec CycleUpload) (Job, error) {
	req := &agentv1.StartCycleUploadRequest{JobId: spec.JobID, VmId: spec.VMID, Cycle: spec.Cycle,
		PreviousCycle: spec.Previous, Threads: uint32(max(spec.Threads, 0))}
	for _, d := range spec.Disks {
		req.Disks = append(req.Disks, &agentv1.CycleDisk{DiskId: d.DiskID, LogPaths: d.Logs,
			VirtualSize: uint64(max(d.VirtualSize, 0)), TargetUrl: d.Target.Reveal()})
	}
	resp, err := c.api.StartCycleUpload(ctx, req)
	if err != nil {
		return Job{}, fromJobStatus(err)
	}
	return toJob(resp.GetJob()), nil
}

// WatchJob calls fn with every report of the job until the job ends, and
// returns its final state. Leaving (ctx ends, fn fails) does not stop it.
func (c *Client) WatchJob(ctx context.Context, id string, fn func(Job) error) (Job, error) {
	stream, err := c.api.WatchJob(ctx, &agentv1.WatchJobRequest{JobId: id})
	if err != nil {
		return Job{}, fromJobStatus(err)
	}
	var last Job
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			if !last.State.Final() {
				return last, fmt.Errorf("%w: watch of job %s ended before the job", ErrUnavailable, id)
			}
			return last, nil
		}
		if err != nil {
			return last, fromJobStatus(err)
		}
		last = toJob(resp.GetJob())
		if fn != nil {
			if err := fn(last); err != nil {
				return last, err
			}
		}
	}
}

// CancelJob stops a job, keeping its durable progress.
func (c *Client) CancelJob(ctx context.Context, id string) (Job, error) {
	resp, err := c.api.CancelJob(ctx, &agentv1.CancelJobRequest{JobId: id})
	if err != nil {
		return Job{}, fromJobStatus(err)
	}
	return toJob(resp.GetJob()), nil
}

// ListJobs lists the jobs of vmID (all jobs when empty).
func (c *Client) ListJobs(ctx context.Context, vmID string) ([]Job, error) {
	resp, err := c.api.ListJobs(ctx, &agentv1.ListJobsRequest{VmId: vmID})
	if err != nil {
		return nil, fromJobStatus(err)
	}
	out := make([]Job, 0, len(resp.GetJobs()))
	for _, j := range resp.GetJobs() {
		out = append(out, toJob(j))
	}
	return out, nil
}

// GetThrottle returns the host-wide limits and the limit in force now.
func (c *Client) GetThrottle(ctx context.Context) (Throttle, units.Bandwidth, error) {
	resp, err := c.api.GetThrottle(ctx, &agentv1.GetThrottleRequest{})
	if err != nil {
		return Throttle{}, 0, fromJobStatus(err)
	}
	return fromThrottle(resp.GetSettings()), fromLimit(resp.GetInForce()), nil
}

// SetThrottle replaces the host-wide limits.
func (c *Client) SetThrottle(ctx context.Context, t Throttle) (Throttle, units.Bandwidth, error) {
	s := &agentv1.ThrottleSettings{WorkHours: toLimit(t.WorkHours), NonWorkHours: toLimit(t.NonWorkHours),
		WorkStart: t.WorkStart, WorkEnd: t.WorkEnd, TimeZone: t.TimeZone, ThreadsPerVm: uint32(max(t.ThreadsPerVM, 0))}
	for _, d := range t.WorkDays {
		s.WorkDays = append(s.WorkDays, uint32(d))
	}
	resp, err := c.api.SetThrottle(ctx, &agentv1.SetThrottleRequest{Settings: s})
	if err != nil {
		return Throttle{}, 0, fromJobStatus(err)
	}
	return fromThrottle(resp.GetSettings()), fromLimit(resp.GetInForce()), nil
}

func toLimit(b units.Bandwidth) *agentv1.BandwidthLimit {
	if b.IsUnlimited() {
		return &agentv1.BandwidthLimit{Unlimited: true}
	}
	return &agentv1.BandwidthLimit{BitsPerSecond: uint64(b)}
}

func fromLimit(l *agentv1.BandwidthLimit) units.Bandwidth {
	if l.GetUnlimited() {
		return units.Unlimited
	}
	return units.Bandwidth(min(l.GetBitsPerSecond(), uint64(units.MaxBandwidth)))
}

func fromThrottle(s *agentv1.ThrottleSettings) Throttle {
	t := Throttle{WorkHours: fromLimit(s.GetWorkHours()), NonWorkHours: fromLimit(s.GetNonWorkHours()),
		WorkStart: s.GetWorkStart(), WorkEnd: s.GetWorkEnd(), TimeZone: s.GetTimeZone(), ThreadsPerVM: int(s.GetThreadsPerVm())}
	for _, d := range s.GetWorkDays() {
		t.WorkDays = append(t.WorkDays, time.Weekday(d))
	}
	return t
}

func toJob(p *agentv1.JobProgress) Job {
	j := Job{ID: p.GetJobId(), Kind: kindName(p.GetKind()), VMID: p.GetVmId(), State: stateOf(p.GetState()), Cycle: p.GetCycle(),
		BytesTotal: clampInt(p.GetBytesTotal()), BytesDone: clampInt(p.GetBytesDone()), BytesSkipped: clampInt(p.GetBytesSkipped()),
		BytesSent: clampInt(p.GetBytesSent()), SavedCoalescing: clampInt(p.GetBytesSavedCoalescing()),
		SavedCompression: clampInt(p.GetBytesSavedCompression()), RateBytesPerSecond: clampInt(p.GetRateBytesPerSecond()),
		ETA: -1, Retries: clampInt(p.GetRetries()),
		Started: time.Unix(p.GetStartedUnix(), 0), Updated: time.Unix(p.GetUpdatedUnix(), 0)}
	if s := p.GetEtaSeconds(); s >= 0 {
		j.ETA = time.Duration(s) * time.Second
	}
	if p.GetError() != "" || p.GetState() == agentv1.JobState_JOB_STATE_FAILED {
		j.Err = fmt.Errorf("agent job %s: %w", p.GetJobId(), classed(p.GetErrorReason().String(), p.GetError()))
	}
	return j
}

func clampInt(v uint64) int64 { return int64(min(v, 1<<62)) }

func kindName(k agentv1.JobKind) string {
	switch k {
	case agentv1.JobKind_JOB_KIND_INITIAL_COPY:
		return "initial_copy"
	case agentv1.JobKind_JOB_KIND_CYCLE_UPLOAD:
		return "cycle_upload"
	case agentv1.JobKind_JOB_KIND_RESYNC_UPLOAD:
		return "resync_upload"
	}
	return "unknown"
}

func stateOf(s agentv1.JobState) JobState {
	switch s {
	case agentv1.JobState_JOB_STATE_QUEUED:
		return JobQueued
	case agentv1.JobState_JOB_STATE_RUNNING:
		return JobRunning
	case agentv1.JobState_JOB_STATE_SUCCEEDED:
		return JobSucceeded
	case agentv1.JobState_JOB_STATE_FAILED:
		return JobFailed
	case agentv1.JobState_JOB_STATE_CANCELLED:
		return JobCancelled
	}
	return JobState("unknown")
}

// reasonClasses maps the agent's ErrorInfo reasons to error classes.
func reasonClasses() map[string]error {
	return map[string]error{
		agentv1.ErrorReason_ERROR_REASON_INVALID_ARGUMENT.String():    ErrInvalidArgument,
		agentv1.ErrorReason_ERROR_REASON_JOB_NOT_FOUND.String():       ErrJobNotFound,
		agentv1.ErrorReason_ERROR_REASON_JOB_CONFLICT.String():        ErrJobConflict,
		agentv1.ErrorReason_ERROR_REASON_SOURCE_MISSING.String():      ErrSourceMissing,
		agentv1.ErrorReason_ERROR_REASON_SOURCE_CORRUPT.String():      ErrSourceCorrupt,
		agentv1.ErrorReason_ERROR_REASON_STORAGE_AUTH.String():        ErrStorageAuth,
		agentv1.ErrorReason_ERROR_REASON_STORAGE_UNAVAILABLE.String(): ErrStorageUnavailable,
	}
}

// classed returns msg wrapping the class of reason, if it has one.
func classed(reason, msg string) error {
	if class, ok := reasonClasses()[reason]; ok {
		return fmt.Errorf("%w: %s", class, msg)
	}
	return errors.New(msg)
}

// fromJobStatus maps a transfer call's wire error to its class, falling
// back to fromStatus for the session-level classes.
func fromJobStatus(err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			if class, ok := reasonClasses()[info.GetReason()]; ok {
				return fmt.Errorf("agent: %w: %s", class, st.Message())
			}
		}
	}
	if st.Code() == codes.NotFound {
		return fmt.Errorf("agent: %w: %s", ErrJobNotFound, st.Message())
	}
	return fromStatus(err, version.AgentProtocol)
}
