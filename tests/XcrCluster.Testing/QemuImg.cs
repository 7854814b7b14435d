using System.Diagnostics;

using Xunit;

namespace XcrCluster.Testing;

/// <summary>Runs the real qemu-img (installed by the test command); a missing binary fails the test, it is never skipped.</summary>
public static class QemuImg
{
    public static string Run(params string[] args) => Run(expectSuccess: true, args).Output;

    public static (int ExitCode, string Output) Run(bool expectSuccess, params string[] args)
    {
        var psi = new ProcessStartInfo("qemu-img") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = Process.Start(psi) ?? throw new InvalidOperationException("qemu-img did not start (apt-get install qemu-utils)");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("qemu-img " + string.Join(' ', args));
        }

        var output = stdout.Result + stderr.Result;
        if (expectSuccess && process.ExitCode != 0)
        {
            throw new InvalidOperationException($"qemu-img {string.Join(' ', args)} exited {process.ExitCode}: {output}");
        }

        return (process.ExitCode, output);
    }

    /// <summary>Compares a VHD with a raw image by content, sizing the VHD by its footer's current_size
    /// (without force_size_calc qemu sizes non-qemu VHDs by CHS and reads them short).</summary>
    public static void AssertIdenticalToRaw(string vhd, string raw)
    {
        var (code, output) = Run(false, "compare", "--image-opts",
            $"driver=vpc,force_size_calc=current_size,file.filename={vhd}", $"driver=raw,file.filename={raw}");
        Assert.True(code == 0, $"qemu-img compare {vhd} {raw}: exit {code}: {output}");
    }
}
