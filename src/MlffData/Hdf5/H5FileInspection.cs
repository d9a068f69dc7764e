using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MlffData.Native;

namespace MlffData.Hdf5;

/// <summary>
/// Looks over every link, object and attribute of a file we did not write for the HDF5 features that make libhdf5 read
/// something other than the file's own bytes, or that this format never uses, before any data is read: external and
/// user-defined links (they lead to another file or wherever their handler says), soft links that do not resolve to an
/// object of this file reached by hard links (dangling, or through an external link), datasets
/// whose raw data lives in external files (a dataset can map any local file, RELIABILITY.md 3.4) or is virtual (mapped
/// from other files), filters other than deflate, shuffle, fletcher32 and our registered LZF, and datatypes other than
/// integers, floats, strings (fixed or variable length) and h5py's bool enum.
/// </summary>
/// <remarks>
/// Only metadata is read: link tables, object headers, creation property lists and datatypes. The walk follows hard
/// links only; it is bounded in depth and in the number of links and attributes it looks at, and an object reached by
/// two hard links (an alias or a cycle) is looked at once. Soft links are followed only after the walk, to check that
/// they land on an object it saw. This is a feature check, not a defence against files crafted to crash libhdf5 itself.
/// </remarks>
internal static class H5FileInspection
{
    /// <summary>Deepest group nesting accepted; FORMAT.md needs 2.</summary>
    internal const int MaxDepth = 32;

    /// <summary>Most links looked at in the whole file; a dataset file has a few dozen.</summary>
    internal const int MaxLinks = 100_000;

    /// <summary>Most attributes on one object; /metadata has a few dozen.</summary>
    internal const int MaxAttributes = 10_000;

    // H5T_class_t values this check names; the others it accepts (integer, float, string, enum) live in H5T.
    private const int ClassTime = 2;
    private const int ClassBitfield = 4;
    private const int ClassOpaque = 5;
    private const int ClassCompound = 6;
    private const int ClassReference = 7;
    private const int ClassVlen = 9;
    private const int ClassArray = 10;

    private static readonly HashSet<int> AllowedFilters = [H5Z.FilterDeflate, H5Z.FilterShuffle, H5Z.FilterFletcher32, H5Z.FilterLzf];

    /// <summary>
    /// The first object of <paramref name="file"/> that uses a feature this format does not accept, with what it is;
    /// null when there is none.
    /// </summary>
    /// <param name="file">An open file.</param>
    /// <returns>The object's path in the file and the problem, or null.</returns>
    /// <exception cref="H5Exception">libhdf5 failed to read the metadata (a damaged file).</exception>
    internal static (string ObjectPath, string Problem)? FindUnsafeFeature(H5File file)
    {
        var walk = new Walk();
        try
        {
            H5Error.Check(H5O.GetInfoByName(file.Handle, ".", out var root, H5O.InfoBasic | H5O.InfoNumAttributes, H5PropertyListHandle.Default), "H5Oget_info_by_name2", "/");
            walk.Visited.Add(root.Address);
            CheckAttributes(file.Handle, "/", root.NumAttributes);
            VisitGroup(file.Handle, "/", 1, walk);
            // Only now, with every link checked, can a soft link's path be followed without meeting an external one.
            foreach (var soft in walk.SoftLinks)
            {
                if (H5O.GetInfoByName(file.Handle, soft, out var target, H5O.InfoBasic, H5PropertyListHandle.Default) < 0)
                {
                    H5E.Clear(H5E.Default);
                    throw new RejectedException(soft, "is a soft link to nothing (or to a chain of soft links too long to follow)");
                }
                if (!walk.Visited.Contains(target.Address))
                    throw new RejectedException(soft, "is a soft link to an object outside the checked part of the file");
            }
            return null;
        }
        catch (RejectedException e)
        {
            return (e.ObjectPath, e.Problem);
        }
    }

    private sealed class Walk
    {
        internal readonly HashSet<ulong> Visited = [];
        internal readonly List<string> SoftLinks = [];
        internal int Links;
    }

    private sealed class RejectedException(string objectPath, string problem) : Exception(problem)
    {
        internal string ObjectPath { get; } = objectPath;
        internal string Problem { get; } = problem;
    }

    private static void VisitGroup(H5LocationHandle group, string path, int depth, Walk walk)
    {
        foreach (var (name, linkType) in Links(group, path, MaxLinks - walk.Links + 1))
        {
            string child = path == "/" ? "/" + name : $"{path}/{name}";
            if (++walk.Links > MaxLinks)
                throw new RejectedException(child, $"the file has more than {MaxLinks} links");
            if (linkType == H5L.TypeSoft)
            {
                // A second name for an object in this file, as long as its path does not go through an external link:
                // followed once the whole walk is done.
                walk.SoftLinks.Add(child);
                continue;
            }
            if (linkType != H5L.TypeHard)
                throw new RejectedException(child, $"is {LinkKind(linkType)}; only hard and soft links within the file are accepted (this one can lead to another file)");

            H5Error.Check(H5O.GetInfoByName(group, name, out var info, H5O.InfoBasic | H5O.InfoNumAttributes, H5PropertyListHandle.Default), "H5Oget_info_by_name2", child);
            // A second hard link to an object already seen (an alias, or a link back up that would make a cycle).
            if (!walk.Visited.Add(info.Address)) continue;
            switch (info.Type)
            {
                case H5O.TypeGroup:
                    if (depth >= MaxDepth)
                        throw new RejectedException(child, $"is nested more than {MaxDepth} groups deep");
                    using (var sub = H5Error.Check(H5G.Open(group, name, H5PropertyListHandle.Default), "H5Gopen2", child))
                    {
                        CheckAttributes(sub, child, info.NumAttributes);
                        VisitGroup(sub, child, depth + 1, walk);
                    }
                    break;
                case H5O.TypeDataset:
                    using (var dataset = H5Error.Check(H5D.Open(group, name, H5PropertyListHandle.Default), "H5Dopen2", child))
                    {
                        CheckAttributes(dataset, child, info.NumAttributes);
                        CheckDataset(dataset, child);
                    }
                    break;
                case H5O.TypeNamedDatatype:
                    // A committed datatype holds no data; a dataset or attribute using it has its type checked there.
                    break;
                default:
                    throw new RejectedException(child, $"is an object of unknown type {info.Type}");
            }
        }
    }

    /// <summary>The group's link names and types, at most <paramref name="limit"/> of them.</summary>
    private static unsafe List<(string Name, int Type)> Links(H5LocationHandle group, string path, int limit)
    {
        var state = new LinkList(limit);
        var gc = GCHandle.Alloc(state);
        try
        {
            ulong index = 0;
            H5Error.Check(H5L.Iterate(group, H5L.IndexName, H5L.IterInc, ref index, &CollectLink, (void*)GCHandle.ToIntPtr(gc)), "H5Literate", path);
        }
        finally
        {
            gc.Free();
        }
        return state.Links;
    }

    private sealed class LinkList(int limit)
    {
        internal readonly List<(string, int)> Links = [];
        internal readonly int Limit = limit;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static unsafe int CollectLink(long group, byte* name, H5L.Info* info, void* data)
    {
        // Runs inside libhdf5: never let an exception unwind through native frames.
        try
        {
            var state = (LinkList)GCHandle.FromIntPtr((nint)data).Target!;
            state.Links.Add((Marshal.PtrToStringUTF8((nint)name) ?? "", info->Type));
            // Positive stops the iteration early without an error: the caller reports the excess.
            return state.Links.Count >= state.Limit ? 1 : 0;
        }
        catch
        {
            return -1;
        }
    }

    private static string LinkKind(int type) => type switch
    {
        H5L.TypeExternal => "an external link",
        _ => $"a user-defined link (type {type})",
    };

    private static unsafe void CheckDataset(H5DatasetHandle dataset, string path)
    {
        using (var dcpl = H5Error.Check(H5D.GetCreatePlist(dataset), "H5Dget_create_plist", path))
        {
            if (H5Error.Check(H5P.GetExternalCount(dcpl), "H5Pget_external_count", path) > 0)
                throw new RejectedException(path, "stores its data in external files, which could be any file on this machine");
            if (H5Error.Check(H5P.GetLayout(dcpl), "H5Pget_layout", path) == H5P.LayoutVirtual)
                throw new RejectedException(path, "is a virtual dataset, whose data comes from other files");
            int filters = (int)H5Error.Check(H5P.GetNfilters(dcpl), "H5Pget_nfilters", path);
            for (uint i = 0; i < filters; i++)
            {
                nuint values = 0;
                int id = (int)H5Error.Check(H5P.GetFilter(dcpl, i, out _, ref values, null, 0, null, out _), "H5Pget_filter2", path);
                if (!AllowedFilters.Contains(id))
                    throw new RejectedException(path, $"uses HDF5 filter {id}; only deflate (1), shuffle (2), fletcher32 (3) and lzf (32000) are accepted");
            }
        }
        using var type = new H5Type(H5Error.Check(H5D.GetType(dataset), "H5Dget_type", path));
        CheckType(type, path, "has");
    }

    private static unsafe void CheckAttributes(H5LocationHandle obj, string path, ulong count)
    {
        if (count == 0) return;
        if (count > MaxAttributes)
            throw new RejectedException(path, $"has {count} attributes, more than {MaxAttributes}");
        var names = new H5Attributes(obj, path).Names;
        foreach (var name in names)
        {
            using var attribute = H5Error.Check(H5A.Open(obj, name, H5PropertyListHandle.Default), "H5Aopen", $"{path} attribute {name}");
            using var type = new H5Type(H5Error.Check(H5A.GetType(attribute), "H5Aget_type", $"{path} attribute {name}"));
            CheckType(type, path, $"has attribute '{name}' of");
        }
    }

    /// <summary>Accepts integers, floats, strings (fixed or variable length) and h5py's bool; names anything else.</summary>
    private static void CheckType(H5Type type, string path, string what)
    {
        int typeClass = type.Class;
        string? kind = typeClass switch
        {
            H5T.ClassInteger or H5T.ClassFloat or H5T.ClassString => null,
            H5T.ClassEnum => type.IsBool ? null : "an enum type other than h5py's bool",
            ClassReference => "a reference type (it points at other objects)",
            ClassCompound => "a compound type",
            ClassOpaque => "an opaque type",
            ClassArray => "an array type",
            ClassVlen => "a variable-length sequence type (only variable-length strings are accepted)",
            ClassTime => "a time type",
            ClassBitfield => "a bitfield type",
            _ => $"an unknown type class {typeClass}",
        };
        if (kind is not null)
            throw new RejectedException(path, $"{what} {kind}, which this format does not use");
    }
}
