using XcrCluster.XapiSim;
using XcrCluster.XapiSim.Http;

// xcr-xapi-sim: prints exactly one line on stdout ("listening URL") once ready; everything else goes to stderr.
return await SimCommandLine.RunAsync(args);
