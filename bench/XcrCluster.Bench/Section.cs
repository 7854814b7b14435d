namespace XcrCluster.Bench;

/// <summary>How every case prints its part of bench/RESULTS.md (bench/results.sh pastes the sections as printed): a
/// title, the command that reproduces it, the case's table(s) and goal lines, then its notes, which live here with the
/// case rather than in RESULTS.md so that a rewrite of the file keeps them.</summary>
public sealed record Section(string Title, string Command, string Notes = "")
{
    /// <summary>Writes the heading and command to stdout, then the body, then the notes.</summary>
    public void Print(Action<TextWriter> body)
    {
        var output = Console.Out;
        output.WriteLine($"## {Title}");
        output.WriteLine();
        output.WriteLine($"Command: {Command}");
        output.WriteLine();
        body(output);
        if (Notes.Length > 0)
        {
            output.WriteLine();
            output.WriteLine(Notes.Trim());
        }

        output.WriteLine();
        output.Flush();
    }

    /// <summary>A goal line as RESULTS.md lists them: "goal: WHAT — met" or "— missed".</summary>
    public static string Goal(string what, bool met) => $"- goal: {what} — {(met ? "met" : "missed")}";
}
