package scan

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"ctpdesk/store"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"
)

// queueName is the River queue the scan's jobs run on.
const queueName = "scan"

// riverClient is what the scan uses of a River client, whichever driver (and so transaction
// type) it was built with.
type riverClient interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	InsertMany(ctx context.Context, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
}

// queue is the scan's River client.
type queue struct {
	riverClient
	work bool
}

// newQueue builds the River client on the dashboard database: the pgx driver on PostgreSQL
// (replicas share the jobs, elect a leader for the schedule and rescue each other's jobs),
// the SQLite driver in dev.
func newQueue(s *Scanner, o Options) (queue, error) {
	workers := river.NewWorkers()
	river.AddWorker(workers, &planWorker{s: s})
	river.AddWorker(workers, &chunkWorker{s: s})
	river.AddWorker(workers, &scheduledWorker{s: s})
	poll := o.PollInterval
	if poll <= 0 {
		poll = time.Second
	}
	cfg := &river.Config{
		Logger:            o.Logger.With(slog.String("component", "river")),
		Workers:           workers,
		FetchPollInterval: poll,
		FetchCooldown:     min(poll, 100*time.Millisecond),
		// River cancels a run that outlives twice the scan's own deadline, and another
		// replica takes over a job whose replica died once three have passed.
		JobTimeout:           2 * o.JobTimeout,
		RescueStuckJobsAfter: 3 * o.JobTimeout,
		MaxAttempts:          10,
	}
	if o.Work {
		cfg.Queues = map[string]river.QueueConfig{queueName: {MaxWorkers: o.Workers}}
		if o.Schedule != nil {
			cfg.PeriodicJobs = []*river.PeriodicJob{river.NewPeriodicJob(o.Schedule,
				func() (river.JobArgs, *river.InsertOpts) { return scheduledArgs{}, nil },
				&river.PeriodicJobOpts{ID: "portfolio-scan"})}
		}
	}
	var c riverClient
	var err error
	switch o.DB.Dialect {
	case store.Postgres:
		c, err = river.NewClient(riverpgxv5.New(o.DB.Pool()), cfg)
	default:
		c, err = river.NewClient(riversqlite.New(o.DB.QueueSQLite()), cfg)
	}
	if err != nil {
		return queue{}, fmt.Errorf("scan: River client: %w", err)
	}
	return queue{riverClient: c, work: o.Work}, nil
}

// Start starts River's workers, or does nothing for a client that only enqueues.
func (q queue) Start(ctx context.Context) error {
	if !q.work {
		return nil
	}
	return q.riverClient.Start(ctx)
}

// Stop stops River's workers.
func (q queue) Stop(ctx context.Context) error {
	if !q.work {
		return nil
	}
	return q.riverClient.Stop(ctx)
}

// insert queues one job with its own insert options.
func (q queue) insert(ctx context.Context, args river.JobArgs) error {
	if _, err := q.Insert(ctx, args, nil); err != nil {
		return fmt.Errorf("scan: queue %s: %w", args.Kind(), err)
	}
	return nil
}

// insertMany queues jobs in one statement.
func (q queue) insertMany(ctx context.Context, args []river.JobArgs) error {
	if len(args) == 0 {
		return nil
	}
	params := make([]river.InsertManyParams, len(args))
	for i, a := range args {
		params[i] = river.InsertManyParams{Args: a}
	}
	if _, err := q.InsertMany(ctx, params); err != nil {
		return fmt.Errorf("scan: queue jobs: %w", err)
	}
	return nil
}
