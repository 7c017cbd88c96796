%% arbor_bench does arbor's benchmark work (docs/benchmarks.md) on OTP's
%% own supervisor, simple_one_for_one supervisor and gen_server, and
%% prints its figures as "key value" lines: durations in nanoseconds,
%% memory in bytes. The Go program in bench/ runs it once per item and
%% run, each time in a fresh VM, and reads those lines. By hand:
%%
%%   erlc -o /tmp bench/otp/*.erl
%%   erl -noshell -pa /tmp -run arbor_bench main ITEM N BATCHES PER_BATCH FILL SAMPLES CALLS
%%
%% or, with no erlc step, escript bench/otp/run.escript ITEM N ... (the same
%% arguments).
%%
%% ITEM is restart-few, restart-window, restart-siblings, static, dynamic,
%% call or floor.
%% Children are plain linked processes (spawn_link), the nearest thing
%% to a Go service's goroutine; reports are turned off, as the Go peers'
%% hooks drop theirs.
-module(arbor_bench).
-behaviour(supervisor).

-export([main/1, init/1, crasher_start/1, idle_start/0]).

main([Item, N, Batches, PerBatch, Fill, Samples, Calls]) ->
    Cfg = #{n => list_to_integer(N),
            batches => list_to_integer(Batches),
            per_batch => list_to_integer(PerBatch),
            fill => list_to_integer(Fill),
            samples => list_to_integer(Samples),
            calls => list_to_integer(Calls)},
    ok = logger:set_primary_config(level, none),
    try run(Item, Cfg) of
        Results ->
            [io:format("~s ~s~n", [K, float_to_list(float(V), [{decimals, 3}])])
             || {K, V} <- Results],
            halt(0)
    catch
        Class:Reason:Stack ->
            io:format(standard_error, "~p:~p~n~p~n", [Class, Reason, Stack]),
            halt(1)
    end;
main(Args) ->
    io:format(standard_error, "usage: arbor_bench ITEM N BATCHES PER_BATCH FILL SAMPLES CALLS (got ~p)~n", [Args]),
    halt(2).

%% Every restart stays in an hour's window, and never exceeds the
%% intensity: the same as the Go peers' flags.
flags() -> #{strategy => one_for_one, intensity => 1 bsl 30, period => 3600}.

%% Supervisor callbacks.
init({crasher, Bench}) ->
    {ok, {flags(), [#{id => crasher, start => {?MODULE, crasher_start, [Bench]},
                      restart => permanent, shutdown => 5000, type => worker}]}};
init({siblings, Bench, Count}) ->
    Idle = fun(Id) -> #{id => Id, start => {?MODULE, idle_start, []}, restart => permanent,
                        shutdown => 5000, type => worker} end,
    Crasher = #{id => crasher, start => {?MODULE, crasher_start, [Bench]},
                restart => permanent, shutdown => 5000, type => worker},
    {ok, {flags(), [Idle({before, I}) || I <- lists:seq(1, Count div 2)] ++ [Crasher] ++
                   [Idle({'after', I}) || I <- lists:seq(1, Count - Count div 2)]}};
init(static) ->
    %% The spec was made before the clock started, as a Go program's is.
    {ok, {flags(), persistent_term:get({?MODULE, children})}};
init(dynamic) ->
    {ok, {(flags())#{strategy => simple_one_for_one},
          [#{id => idle, start => {?MODULE, idle_start, []},
             restart => permanent, shutdown => 5000, type => worker}]}}.

%% crasher tells the bench it serves, then waits to be told to crash.
crasher_start(Bench) ->
    {ok, spawn_link(fun() -> crasher(Bench) end)}.

crasher(Bench) ->
    Bench ! {serving, self()},
    receive crash -> exit(crash) end.

%% idle waits until its supervisor stops it.
idle_start() ->
    {ok, spawn_link(fun idle/0)}.

idle() ->
    receive after infinity -> ok end.

now_ns() -> erlang:monotonic_time(nanosecond).

run("restart-few", #{batches := B, per_batch := K}) ->
    Samples = lists:append([restart_batch(K) || _ <- lists:seq(1, B)]),
    [{"restart_few_p50_ns", p50(Samples)}];
run("restart-siblings", #{n := N, samples := S}) ->
    %% A crashing child in the middle of idle siblings: 10, 1,000 and N.
    [{"restart_siblings_p50_ns_" ++ integer_to_list(Count), siblings(Count, S)}
     || Count <- [10, 1000, N]];
run("restart-window", #{fill := F, samples := S}) ->
    {ok, Sup} = supervisor:start_link(?MODULE, {crasher, self()}),
    Pid0 = receive {serving, P} -> P end,
    Pid1 = fill(Pid0, F),
    {Samples, _} = measure(Pid1, S, []),
    ok = gen_server:stop(Sup),
    [{"restart_window_p50_ns", p50(Samples)}, {"restarts_in_window", F}];
run("static", #{n := N}) ->
    Children = [#{id => I, start => {?MODULE, idle_start, []}, restart => permanent,
                  shutdown => 5000, type => worker} || I <- lists:seq(0, N - 1)],
    persistent_term:put({?MODULE, children}, Children),
    %% Twice in the same VM: first in a fresh one, then again, with the
    %% memory left by the first to reuse.
    static_round(N, "") ++ static_round(N, "_warm");
run("dynamic", #{n := N}) ->
    %% Memory is measured the first time only, in the fresh VM, as for
    %% the Go peers.
    Before = mem_in_use(),
    {Cold, After} = dynamic_round(N, "", fun mem_in_use/0),
    {Warm, _} = dynamic_round(N, "_warm", fun() -> 0 end),
    Cold ++ Warm ++ [{"mem_idle_bytes_per_child", (After - Before) / N}];
run("call", #{calls := C}) ->
    {ok, Srv} = gen_server:start_link(arbor_bench_counter, 0, []),
    T0 = now_ns(),
    call(Srv, C),
    T1 = now_ns(),
    ok = gen_server:stop(Srv),
    [{"call_ns", (T1 - T0) / C}];
run("floor", #{n := N, calls := C}) ->
    %% Bare processes waiting for a message, and a message round trip.
    Before = mem_in_use(),
    T0 = now_ns(),
    Pids = spawn_idle(N),
    T1 = now_ns(),
    After = mem_in_use(),
    stop_idle(Pids),
    T4 = now_ns(),
    Again = spawn_idle(N),
    T5 = now_ns(),
    stop_idle(Again),
    Echo = spawn(fun echo/0),
    T2 = now_ns(),
    ping(Echo, C),
    T3 = now_ns(),
    Echo ! stop,
    %% The list of pids costs 2 words a process.
    [{"spawn_ns", (T1 - T0) / N}, {"spawn_ns_warm", (T5 - T4) / N},
     {"mem_bytes", (After - Before - N * 16) / N},
     {"round_trip_ns", (T3 - T2) / C}].

static_round(N, Suffix) ->
    T0 = now_ns(),
    {ok, Sup} = supervisor:start_link(?MODULE, static),
    T1 = now_ns(),
    ok = gen_server:stop(Sup),
    T2 = now_ns(),
    [{"start_static_ns_per_child" ++ Suffix, (T1 - T0) / N}, {"stop_static_ns" ++ Suffix, T2 - T1}].

dynamic_round(N, Suffix, Mem) ->
    {ok, Sup} = supervisor:start_link(?MODULE, dynamic),
    T0 = now_ns(),
    start_children(Sup, N),
    T1 = now_ns(),
    After = Mem(),
    T2 = now_ns(),
    ok = gen_server:stop(Sup),
    T3 = now_ns(),
    {[{"start_dynamic_ns_per_child" ++ Suffix, (T1 - T0) / N}, {"stop_dynamic_ns" ++ Suffix, T3 - T2}], After}.

%% siblings times S restarts of a child beside Count idle siblings.
siblings(Count, S) ->
    {ok, Sup} = supervisor:start_link(?MODULE, {siblings, self(), Count}),
    Pid = receive {serving, P} -> P end,
    {Samples, _} = measure(Pid, S, []),
    ok = gen_server:stop(Sup),
    p50(Samples).

restart_batch(K) ->
    {ok, Sup} = supervisor:start_link(?MODULE, {crasher, self()}),
    Pid = receive {serving, P} -> P end,
    {Samples, _} = measure(Pid, K, []),
    ok = gen_server:stop(Sup),
    Samples.

%% fill makes F restarts, unmeasured, and returns the serving child.
fill(Pid, 0) -> Pid;
fill(Pid, F) ->
    Pid ! crash,
    receive {serving, P} -> fill(P, F - 1) end.

%% measure times K restarts: a crash until the replacement serves.
measure(Pid, 0, Acc) -> {Acc, Pid};
measure(Pid, K, Acc) ->
    T0 = now_ns(),
    Pid ! crash,
    receive
        {serving, P} -> measure(P, K - 1, [now_ns() - T0 | Acc])
    end.

start_children(_Sup, 0) -> ok;
start_children(Sup, K) ->
    {ok, _} = supervisor:start_child(Sup, []),
    start_children(Sup, K - 1).

call(_Srv, 0) -> ok;
call(Srv, K) ->
    _ = gen_server:call(Srv, incr),
    call(Srv, K - 1).

spawn_idle(N) ->
    [spawn(fun() -> receive stop -> ok end end) || _ <- lists:seq(1, N)].

%% stop_idle stops the processes and waits until they have exited.
stop_idle(Pids) ->
    Refs = [begin R = monitor(process, P), P ! stop, R end || P <- Pids],
    [receive {'DOWN', R, process, _, _} -> ok end || R <- Refs],
    ok.

echo() ->
    receive
        {From, N} -> From ! N, echo();
        stop -> ok
    end.

ping(_Echo, 0) -> ok;
ping(Echo, K) ->
    Echo ! {self(), K},
    receive K -> ping(Echo, K - 1) end.

%% mem_in_use is all the VM's memory in use after collecting every
%% process's garbage: processes' heaps and stacks, ETS, binaries.
mem_in_use() ->
    [erlang:garbage_collect(P) || P <- erlang:processes()],
    erlang:memory(total).

p50(Samples) ->
    Sorted = lists:sort(Samples),
    lists:nth(length(Sorted) div 2 + 1, Sorted).
