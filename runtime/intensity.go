package runtime

// intensity applies OTP's restart-intensity rule: a restart at second now is
// allowed iff the restarts already recorded at seconds t with now-t <= period
// (the window is inclusive), plus this one, number at most max.
//
// OTP keeps one timestamp per restart and walks them, so its cost grows with
// the restarts in the window. Here restarts that fall in the same second
// share one bucket, and buckets that leave the window are dropped from the
// front: each check costs O(1) amortized, and the memory is bounded by
// min(max, period+1) buckets whatever the restart rate.
type intensity struct {
	max    int
	period int64
	// buckets hold (second, count) in increasing second order; head is the
	// first live one. total is the sum of live counts.
	buckets []restartBucket
	head    int
	total   int
}

type restartBucket struct {
	second int64
	count  int
}

func newIntensity(max, period int) intensity {
	return intensity{max: max, period: int64(period)}
}

// add records a restart at second now (now never decreases between calls) if
// the rule allows it, and reports whether it did. A refused restart is not
// recorded: the supervisor gives up.
func (in *intensity) add(now int64) bool {
	threshold := now - in.period
	for in.head < len(in.buckets) && in.buckets[in.head].second < threshold {
		in.total -= in.buckets[in.head].count
		in.head++
	}
	if in.head == len(in.buckets) {
		in.buckets, in.head = in.buckets[:0], 0
	}
	if in.total+1 > in.max {
		return false
	}
	in.total++
	if n := len(in.buckets); n > in.head && in.buckets[n-1].second == now {
		in.buckets[n-1].count++
		return true
	}
	if in.head > 0 && len(in.buckets) == cap(in.buckets) {
		// Reuse the dropped front instead of growing.
		live := copy(in.buckets, in.buckets[in.head:])
		in.buckets, in.head = in.buckets[:live], 0
	}
	in.buckets = append(in.buckets, restartBucket{second: now, count: 1})
	return true
}
