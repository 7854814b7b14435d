using XcrCluster.XapiSim.Http;

namespace XcrCluster.XapiSim;

/// <summary>`xcr-xapi-sim --listen ADDR:PORT [--listen ...] --data DIR [--pool-name N] [--user U] [--password P]
/// [--fixture FILE] [--tls] [--collector-interval MS] [--xapi-version MAJOR.MINOR]`; the password may come from
/// XCR_SIM_PASSWORD instead.</summary>
public static class SimCommandLine
{
    public const string Usage = "usage: xcr-xapi-sim --listen 127.0.0.1:0 [--listen 127.0.0.2:0] --data DIR [--pool-name NAME]"
        + " [--user root] [--password PW] [--fixture FILE] [--tls] [--collector-interval MS] [--xapi-version 25.6]";

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length > 0 && args[0] is "guest-write" or "checksum")
        {
            return await GuestCommands.RunAsync(args[0], args[1..]);
        }

        SimOptions options;
        try
        {
            options = Parse(args);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"xcr-xapi-sim: {e.Message}");
            Console.Error.WriteLine(Usage);
            return 2;
        }

        await using var server = await SimServer.StartAsync(options);
        if (server.CertificateFingerprint is { } fingerprint)
        {
            Console.Error.WriteLine($"tls certificate sha256 fingerprint: {fingerprint}");
        }

        Console.Out.WriteLine($"listening {server.Url.GetLeftPart(UriPartial.Authority)}");
        Console.Out.Flush();
        var stop = new TaskCompletionSource();
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(
            System.Runtime.InteropServices.PosixSignal.SIGTERM, c =>
        {
            c.Cancel = true;
            stop.TrySetResult();
        });
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.TrySetResult();
        };
        await stop.Task;
        return 0;
    }

    public static SimOptions Parse(string[] args)
    {
        var listen = new List<string>();
        string? data = null, pool = null, user = null, password = null, fixture = null, xapiVersion = null;
        var tls = false;
        TimeSpan? collector = null;
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--listen": listen.Add(Value()); break;
                case "--data": data = Value(); break;
                case "--pool-name": pool = Value(); break;
                case "--user": user = Value(); break;
                case "--password": password = Value(); break;
                case "--fixture": fixture = Value(); break;
                case "--tls": tls = true; break;
                case "--collector-interval": collector = TimeSpan.FromMilliseconds(int.Parse(Value())); break;
                case "--xapi-version": xapiVersion = XapiVersion.Parse(Value()).ToString(); break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }

        foreach (var entry in listen)
        {
            if (!System.Net.IPEndPoint.TryParse(entry, out _))
            {
                throw new ArgumentException($"--listen {entry}: expected ADDRESS:PORT");
            }
        }

        var options = new SimOptions
        {
            DataDir = data ?? throw new ArgumentException("--data DIR is required"),
            Listen = listen.Count > 0 ? listen : ["127.0.0.1:0"],
            FixturePath = fixture,
            Tls = tls,
        };
        return options with
        {
            PoolName = pool ?? options.PoolName,
            User = user ?? options.User,
            // XCR_SIM_PASSWORD keeps the pool password out of the process list (tests check /proc/*/cmdline).
            Password = password
                ?? (Environment.GetEnvironmentVariable("XCR_SIM_PASSWORD") is { Length: > 0 } fromEnv ? fromEnv : options.Password),
            CollectorInterval = collector ?? options.CollectorInterval,
            XapiVersion = xapiVersion ?? options.XapiVersion,
        };
    }
}
