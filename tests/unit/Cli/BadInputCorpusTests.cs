using System.Diagnostics;
using System.Text;
using System.Text.Json;
using MlffData.UnitTests.TestSupport;

namespace MlffData.UnitTests.Cli;

/// <summary>
/// The bad-input corpus (tests/corpus, made by make_corpus.py) through the real tool: each hostile or broken pickle,
/// extxyz or HDF5 file gets its expected exit code and one clean error line, within 30 s, leaving no output behind
/// and never showing the secret file that the external-storage cases point at.
/// </summary>
public sealed class BadInputCorpusTests : IDisposable
{
    private const string KnownBugSkip = "a known misbehaviour of the tool (known_bug in tests/corpus/expected.json)";
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);
    private static readonly string Corpus = RepoPaths.Of("tests", "corpus");
    private static readonly string Files = Path.Combine(Corpus, "files");
    private static readonly Lazy<Manifest> Loaded = new(Load);

    // Every attack pickle in the corpus tries to create this file (make_corpus.py's CANARY).
    private const string Canary = "/tmp/mlff-corpus-canary";

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>The cases the tool handles today, by name.</summary>
    public static TheoryData<string> Cases => Names(c => c.KnownBug is null);

    /// <summary>The cases marked known_bug: skipped until the tool is fixed.</summary>
    public static TheoryData<string> KnownBugs => Names(c => c.KnownBug is not null);

    [Fact]
    public void Manifest_Corpus_FiftyFilesUnder64KiBOfEveryKind()
    {
        var manifest = Loaded.Value;

        manifest.Cases.Select(c => c.File).Distinct().Should().HaveCountGreaterThanOrEqualTo(50);
        manifest.Cases.Select(c => c.Name).Should().OnlyHaveUniqueItems();
        foreach (var kind in new[] { "extxyz", "pickle", "hdf5" })
            manifest.Cases.Count(c => c.Kind == kind).Should().BeGreaterThanOrEqualTo(15, kind);
        foreach (var c in manifest.Cases)
        {
            var file = new FileInfo(Path.Combine(Files, c.File));
            file.Exists.Should().BeTrue(c.Name);
            file.Length.Should().BeLessThan(64 * 1024, c.Name);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    [MemberData(nameof(KnownBugs), Skip = KnownBugSkip)]
    public void Run_CorpusCase_ExpectedExitAndOneCleanErrorLine(string name)
    {
        // Arrange
        var c = Loaded.Value.Cases.Single(x => x.Name == name);
        string output = _dir.File("out.h5");
        var args = c.Args.Select(a => a.Replace("{files}", Files).Replace("{out}", output)).ToArray();
        var corpusBefore = Directory.GetFiles(Files).Select(Path.GetFileName).Order().ToArray();
        bool canaryBefore = File.Exists(Canary);

        // Act
        var (exit, stdout, stderr) = RunTool(args);

        // Assert
        // FluentAssertions formats the reason: braces in the tool's output must not read as placeholders.
        string because = $"case {c.Name}: mlff-data {string.Join(' ', args)}\nstdout: {stdout}\nstderr: {stderr}"
            .Replace("{", "(").Replace("}", ")");
        exit.Should().Be(c.Exit, because);
        stderr.Should().NotContain("   at ", because).And.NotContain("Unhandled exception", because);
        string stream = c.Stream == "stdout" ? stdout : stderr;
        foreach (var expected in c.Contains) stream.Should().Contain(expected, because);
        if (c.Exit != 0 && c.Stream == "stderr")
        {
            var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            lines.Should().ContainSingle(because);
            lines[0].Should().StartWith("error:", because);
        }
        else
        {
            stderr.Should().BeEmpty(because);
        }

        var left = Directory.GetFiles(_dir.Path).Select(Path.GetFileName).ToArray();
        if (c.Exit == 0 && c.Args.Contains("{out}")) left.Should().BeEquivalentTo(new[] { "out.h5" }, because);
        else left.Should().BeEmpty(because);
        Directory.GetFiles(Files).Select(Path.GetFileName).Order().Should().Equal(corpusBefore, because);

        string secret = Loaded.Value.Secret;
        stdout.Should().NotContain(secret, because);
        stderr.Should().NotContain(secret, because);
        foreach (var file in Directory.GetFiles(_dir.Path))
            Encoding.Latin1.GetString(File.ReadAllBytes(file)).Should().NotContain(secret, because);
        if (!canaryBefore) File.Exists(Canary).Should().BeFalse($"{because}\na pickle ran its payload");
    }

    private static (int Exit, string Stdout, string Stderr) RunTool(string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            // The external-storage cases name secret.txt relatively, which libhdf5 resolves against this directory.
            WorkingDirectory = Files,
        };
        start.ArgumentList.Add(CliRunner.Dll);
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Limit))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new Xunit.Sdk.XunitException($"mlff-data {string.Join(' ', args)} did not end within {Limit.TotalSeconds} s (killed)");
        }
        process.WaitForExit(); // flushes the redirected streams
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    private static TheoryData<string> Names(Func<Case, bool> which)
    {
        var data = new TheoryData<string>();
        foreach (var c in Loaded.Value.Cases.Where(which)) data.Add(c.Name);
        return data;
    }

    private static Manifest Load()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Corpus, "expected.json")));
        var root = doc.RootElement;
        string secret = File.ReadAllText(Path.Combine(Files, root.GetProperty("secret").GetString()!)).Split('\n')[0];
        var cases = root.GetProperty("cases").EnumerateArray().Select(c => new Case(
            c.GetProperty("name").GetString()!,
            c.GetProperty("kind").GetString()!,
            c.GetProperty("file").GetString()!,
            c.GetProperty("args").EnumerateArray().Select(a => a.GetString()!).ToArray(),
            c.GetProperty("exit").GetInt32(),
            c.GetProperty("stream").GetString()!,
            c.GetProperty("contains").EnumerateArray().Select(a => a.GetString()!).ToArray(),
            c.TryGetProperty("known_bug", out var bug) ? bug.GetString() : null)).ToArray();
        return new Manifest(secret, cases);
    }

    private sealed record Manifest(string Secret, Case[] Cases);

    private sealed record Case(string Name, string Kind, string File, string[] Args, int Exit, string Stream, string[] Contains, string? KnownBug);
}
