package issuerdb

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"ctpdesk/internal/sqldialect"
	"ctpdesk/internal/stats"
)

// TestReaderConnectionsMapNothingAndCacheLittle checks the memory settings every pooled
// connection of a read-only issuer database runs with: no memory map of the file (one per
// connection made a million-customer portfolio show gigabytes resident) and a page cache small
// enough that the whole pool's stays within 8 MiB.
func TestReaderConnectionsMapNothingAndCacheLittle(t *testing.T) {
	url := "sqlite:" + filepath.Join(t.TempDir(), "issuer.db")
	db := mustSeeded(t, url, 200, Options{ReadOnly: true})
	ctx := context.Background()
	// Hold several connections at once, so the pool opens more than one.
	const held = 4
	var total int
	for i := range held {
		c, err := db.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var mmap, cache int
		if err := c.QueryRowContext(ctx, "PRAGMA mmap_size").Scan(&mmap); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&cache); err != nil {
			t.Fatal(err)
		}
		if mmap != 0 {
			t.Errorf("connection %d: mmap_size = %d, want 0", i, mmap)
		}
		// A negative cache_size is KiB; a positive one pages, which this setting never uses.
		if cache >= 0 {
			t.Errorf("connection %d: cache_size = %d, want a size in KiB (negative)", i, cache)
		}
		total += -cache
	}
	maxConns := db.db.Stats().MaxOpenConnections
	if perConn := total / held; perConn*maxConns > 8*1024 {
		t.Errorf("page caches of %d KiB per connection × %d connections exceed 8 MiB", perConn, maxConns)
	}
}

// BenchmarkSearchReaderMemory compares, side by side, searches on the benchmark portfolio with
// the readers' memory settings (no map, 1 MiB of page cache per connection) and with the ones
// they replaced (a 1 GiB map and 64 MiB of page cache per connection): two handles on the same
// file, each warmed with every query once, then queried in turns. Both share the kernel's page
// cache, so neither reads the disk.
func BenchmarkSearchReaderMemory(b *testing.B) {
	n := benchCustomers(b)
	u := benchSQLiteURL(b, n)
	queries := benchQueries(n)
	now := openWithMemory(b, u, readerMmapBytes, readerCacheKiB)
	before := openWithMemory(b, u, 1<<30, 65536)
	ctx := context.Background()
	search := func(db *DB, q string) time.Duration {
		start := time.Now()
		if _, err := db.Search(ctx, Query{Text: q}); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	for _, kind := range benchKinds {
		b.Run(kind, func(b *testing.B) {
			qs := queries[kind]
			for _, q := range qs {
				search(now, q)
				search(before, q)
			}
			var nowD, beforeD []time.Duration
			i := 0
			for b.Loop() {
				q := qs[i%len(qs)]
				if i%2 == 0 {
					nowD = append(nowD, search(now, q))
					beforeD = append(beforeD, search(before, q))
				} else {
					beforeD = append(beforeD, search(before, q))
					nowD = append(nowD, search(now, q))
				}
				i++
			}
			nowP50, beforeP50 := stats.Percentile(nowD, 50), stats.Percentile(beforeD, 50)
			b.ReportMetric(float64(nowP50.Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(stats.Percentile(nowD, 95).Microseconds())/1000, "p95-ms")
			b.ReportMetric(float64(beforeP50.Microseconds())/1000, "mmap-p50-ms")
			b.ReportMetric(float64(stats.Percentile(beforeD, 95).Microseconds())/1000, "mmap-p95-ms")
			b.ReportMetric(float64(nowP50)/float64(beforeP50), "p50/mmap-p50")
		})
	}
}

// openWithMemory opens the issuer database at url read-only, its connections mapping
// mmapBytes of the file and caching cacheKiB of pages each.
func openWithMemory(b *testing.B, url string, mmapBytes int64, cacheKiB int) *DB {
	b.Helper()
	db, err := Open(context.Background(), url, Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	t, err := parseURL(url)
	if err != nil {
		b.Fatal(err)
	}
	sqldb, err := sqldialect.Open(t, sqldialect.OpenOptions{SQLiteParams: sqliteParamsWith(true, mmapBytes, cacheKiB), ReadOnly: true,
		MaxConns: db.db.Stats().MaxOpenConnections})
	if err != nil {
		b.Fatal(fmt.Errorf("open with mmap %d, cache %d KiB: %w", mmapBytes, cacheKiB, err))
	}
	db.stmts.Close()
	db.db.Close()
	db.db, db.stmts = sqldb, sqldialect.NewStatements(sqldb, db.rebind)
	b.Cleanup(func() { db.Close() })
	return db
}
