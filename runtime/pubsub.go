package runtime

// Subscriber is the value of a pub/sub registry's entries: it delivers a
// message of type M to the queue of the server that subscribed. Subscribe
// makes it; the zero Subscriber delivers nothing.
//
// A pub/sub registry is a *DuplicateRegistry[T, Subscriber[M]]: topics of
// type T, messages of type M. Every registry operation works on it:
// Unregister(topic, h) unsubscribes, Lookup lists a topic's subscribers,
// Keys a server's topics, Count and CountSelect count them, Listen tells
// of subscriptions.
type Subscriber[M any] struct {
	deliver func(M) bool
}

// Deliver queues msg on the subscribed server, and reports whether the
// server was still running to see it. It never blocks.
func (s Subscriber[M]) Deliver(msg M) bool {
	return s.deliver != nil && s.deliver(msg)
}

// Subscribe subscribes srv to topic: each message published on topic is
// queued on srv, where handle runs with the server's state as a Cast
// handler does (after the handlers queued before it; an error stops the
// server, a panic crashes it). The subscription is an entry of srv's
// process in r, so it ends when the server exits, or when
// r.Unregister(topic, srv.Handle()) removes it. A server that subscribes
// twice to a topic gets each message twice, as Elixir's duplicate
// registrations do. Subscribe returns ErrNoProc when srv is not running.
//
// Subscribe is typically called from the server's start function, after
// NewServer, so that every incarnation of a supervised server subscribes
// again.
func Subscribe[S any, T comparable, M any](r *DuplicateRegistry[T, Subscriber[M]], topic T, srv *Server[S], handle func(state *S, msg M) error) error {
	if srv == nil {
		return ErrNoProc
	}
	sub := Subscriber[M]{deliver: func(msg M) bool {
		return srv.push(func(s *S) error { return handle(s, msg) })
	}}
	return r.RegisterValue(topic, srv.Handle(), sub)
}

// Publish queues msg on every live subscriber of topic and returns how
// many subscriptions it reached. It never blocks and runs no user code:
// each delivery appends to a server's queue, and the handlers run later in
// the servers. Messages published on one topic from one goroutine reach
// each subscriber in the order they were published. Subscriptions made
// while Publish runs may or may not get msg, as in Elixir's dispatch.
func Publish[T comparable, M any](r *DuplicateRegistry[T, Subscriber[M]], topic T, msg M) int {
	n := 0
	r.table().each(topic, func(e *regEntry[T, Subscriber[M]]) {
		if e.value.Deliver(msg) {
			n++
		}
	})
	return n
}
