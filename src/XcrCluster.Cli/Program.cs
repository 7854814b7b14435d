using XcrCluster.Cli;

return await XcrCommand.RunAsync(args, Console.Out, Console.Error, Console.In);
