#!/usr/bin/env escript
%% Runs arbor_bench with no erlc step: it compiles the two modules beside
%% it in memory, loads them, and calls arbor_bench:main/1.
%%
%%   escript bench/otp/run.escript ITEM N BATCHES PER_BATCH FILL SAMPLES CALLS
main(Args) ->
    Dir = filename:dirname(escript:script_name()),
    [load(filename:join(Dir, F)) || F <- ["arbor_bench.erl", "arbor_bench_counter.erl"]],
    arbor_bench:main(Args).

load(File) ->
    {ok, Mod, Bin} = compile:file(File, [binary, report]),
    {module, Mod} = code:load_binary(Mod, File, Bin).
