using XcrCluster.Cli;

return args switch
{
    ["demo", .. var rest] => await Demo.RunAsync(rest, Console.Out),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: xcr demo [--keep] [--data DIR]");
    return 2;
}
