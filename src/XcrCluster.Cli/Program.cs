using XcrCluster.Cli;

return args switch
{
    ["demo", .. var rest] => await VhdDemo.RunAsync(rest, Console.Out),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: xcr demo [--keep]");
    return 1;
}
