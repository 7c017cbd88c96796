%% arbor_bench_counter is the gen_server of arbor_bench's call round
%% trip: its state is a count, and a call increments it and returns it.
-module(arbor_bench_counter).
-behaviour(gen_server).

-export([init/1, handle_call/3, handle_cast/2]).

init(N) -> {ok, N}.

handle_call(incr, _From, N) -> {reply, N + 1, N + 1}.

handle_cast(_Msg, N) -> {noreply, N}.
