package gateway

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// durationMetric is Caddy's histogram of request durations, labelled by
// server, handler, code and method.
const durationMetric = "caddy_http_request_duration_seconds"

// RouteCounters is one reading of a route's counters, cumulative since the
// gateway started.
type RouteCounters struct {
	Service, Route string
	// Requests and Errors5xx count the requests answered, and those
	// answered with a 5xx status.
	Requests, Errors5xx float64
	// Buckets are the histogram of their durations: cumulative counts by
	// upper bound, ascending, the last +Inf.
	Buckets []Bucket
}

// Bucket is one bucket of a duration histogram.
type Bucket struct {
	UpperBound float64 // seconds
	Count      float64
}

// ParseMetrics reads the routes' counters from Caddy's metrics in
// Prometheus' text format: the request durations its route servers
// observe under their subroute handler, which sees each request once.
func ParseMetrics(r io.Reader) ([]RouteCounters, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("parsing the gateway's metrics: %w", err)
	}
	by := map[string]*RouteCounters{}
	f := families[durationMetric]
	if f == nil {
		return nil, nil
	}
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		server, ok := strings.CutPrefix(labels["server"], serverPrefix)
		h := m.GetHistogram()
		if !ok || labels["handler"] != "subroute" || h == nil {
			continue
		}
		rc := by[server]
		if rc == nil {
			service, route, _ := strings.Cut(server, ":")
			rc = &RouteCounters{Service: service, Route: route}
			by[server] = rc
		}
		n := float64(h.GetSampleCount())
		rc.Requests += n
		if strings.HasPrefix(labels["code"], "5") {
			rc.Errors5xx += n
		}
		rc.Buckets = addBuckets(rc.Buckets, h.GetBucket(), n)
	}
	out := make([]RouteCounters, 0, len(by))
	for _, rc := range by {
		out = append(out, *rc)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Route != out[j].Route {
			return out[i].Route < out[j].Route
		}
		return out[i].Service < out[j].Service
	})
	return out, nil
}

// addBuckets adds a series' buckets (and its +Inf, its count) to sum; the
// series of one metric share their bounds.
func addBuckets(sum []Bucket, bs []*dto.Bucket, count float64) []Bucket {
	if sum == nil {
		for _, b := range bs {
			sum = append(sum, Bucket{UpperBound: b.GetUpperBound()})
		}
		sum = append(sum, Bucket{UpperBound: math.Inf(1)})
	}
	for i, b := range bs {
		if i < len(sum)-1 {
			sum[i].Count += float64(b.GetCumulativeCount())
		}
	}
	sum[len(sum)-1].Count += count
	return sum
}

// RouteStats are a route's figures over an interval.
type RouteStats struct {
	Service, Route string
	// Requests and Errors5xx are counted since the gateway started.
	Requests, Errors5xx float64
	// Per second over the interval.
	RequestsPerSecond, ErrorsPerSecond float64
	// P50 and P99 are the latency quantiles of the interval's requests, or
	// of all when the interval had none; 0 when there were none at all.
	P50, P99 time.Duration
}

// Interval computes a route's figures between two readings dt apart; prev
// is nil for the first reading (no rates yet).
func Interval(prev *RouteCounters, cur RouteCounters, dt time.Duration) RouteStats {
	s := RouteStats{Service: cur.Service, Route: cur.Route, Requests: cur.Requests, Errors5xx: cur.Errors5xx}
	buckets := cur.Buckets
	if prev != nil && dt > 0 && cur.Requests >= prev.Requests {
		s.RequestsPerSecond = (cur.Requests - prev.Requests) / dt.Seconds()
		s.ErrorsPerSecond = (cur.Errors5xx - prev.Errors5xx) / dt.Seconds()
		if cur.Requests > prev.Requests && len(prev.Buckets) == len(cur.Buckets) {
			buckets = make([]Bucket, len(cur.Buckets))
			for i := range cur.Buckets {
				buckets[i] = Bucket{UpperBound: cur.Buckets[i].UpperBound, Count: cur.Buckets[i].Count - prev.Buckets[i].Count}
			}
		}
	}
	s.P50, s.P99 = quantile(0.5, buckets), quantile(0.99, buckets)
	return s
}

// quantile estimates quantile q of a cumulative histogram as Prometheus'
// histogram_quantile does: linearly within the bucket it falls in, the
// highest finite bound when it falls in +Inf.
func quantile(q float64, buckets []Bucket) time.Duration {
	if len(buckets) == 0 || buckets[len(buckets)-1].Count == 0 {
		return 0
	}
	rank := q * buckets[len(buckets)-1].Count
	lower, below := 0.0, 0.0
	for i, b := range buckets {
		if b.Count >= rank {
			if math.IsInf(b.UpperBound, 1) {
				if i == 0 {
					return 0
				}
				return seconds(buckets[i-1].UpperBound)
			}
			if b.Count == below {
				return seconds(b.UpperBound)
			}
			return seconds(lower + (b.UpperBound-lower)*(rank-below)/(b.Count-below))
		}
		lower, below = b.UpperBound, b.Count
	}
	return seconds(lower)
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
