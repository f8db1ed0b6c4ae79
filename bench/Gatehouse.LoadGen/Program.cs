using Gatehouse.LoadGen;

// bench/side-by-side.sh runs one verb per measurement; each prints one line of key=value pairs for the script.
var parsed = CommandLine.Parse(args);
try
{
    return parsed.Verb switch
    {
        "free-ports" => FreePorts.Print(parsed.Int("count", 1)),
        "sink" => await TcpSink.RunAsync(parsed.Int("port")),
        "bulk" => await BulkSender.RunAsync(BulkSender.Options.From(parsed)),
        "handshakes" => await HandshakeLoad.RunAsync(HandshakeLoad.Options.From(parsed)),
        "requests" => await HttpRequestLoad.RunAsync(HttpRequestLoad.Options.From(parsed)),
        "soak" => await SoakLoad.RunAsync(SoakLoad.Options.From(parsed)),
        "latency" => await ConnectLatency.RunAsync(parsed.Int("port"), parsed.Int("count", 200), parsed.Int("warmup", 10)),
        "idle" => await IdleConnections.RunAsync(parsed),
        "delay" => await DelayRelay.RunAsync(parsed.Int("port"), parsed.Int("to"), parsed.Int("ms")),
        _ => Usage(),
    };
}
catch (CommandLineException e)
{
    Console.Error.WriteLine($"loadgen: {e.Message}");
    return 2;
}

static int Usage()
{
    Console.Error.WriteLine("""
        usage: Gatehouse.LoadGen VERB [--option value ...]
          free-ports --count N                   print N distinct free loopback ports
          sink --port P                          TCP sink on 127.0.0.1:P ('E': echo, 'B' + 8-byte length: drain then 'K')
          bulk --port P --bytes N [--tls-host SNI | --dial APP --cert F --key F]
                                                 send N bytes through P, print MB/s (TLS to P when --tls-host;
                                                 gatehouse-tcp + dial frame to P when --dial)
          handshakes --port P --mode gatehouse|tls --cert F --key F --seconds S --concurrency C [--target APP]
          requests --url https://... --cert F --key F --seconds S --concurrency C
                                                 GET the URL over C kept-alive HTTPS connections, print requests/s
          soak --tunnel-port P --tunnels N --url https://... --cert F --key F --rate R --seconds S
                                                 N churning tunnels (echoes checked) + R GETs/s; counters every 10 s
          latency --port P --count N [--warmup W]  N sequential connect → 'E' → first echoed byte, print p50/p99
          idle --port P --count N [--parallel K] [--dial APP --cert F --key F]
                                                 open N connections, K at a time (each echoes once), print open=N,
                                                 hold them; a line 'check' echoes once more through each and prints
                                                 alive=N failed=M; the end of standard input closes them
          delay --port P --to Q --ms X           relay 127.0.0.1:P to 127.0.0.1:Q with X ms one-way delay each way
        """);
    return 2;
}
