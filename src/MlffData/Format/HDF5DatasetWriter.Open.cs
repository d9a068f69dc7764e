using MlffData.Hdf5;

namespace MlffData.Format;

public sealed partial class HDF5DatasetWriter
{
    /// <summary>Creates the partial file with FORMAT.md's three groups; the datasets come at their first write.</summary>
    private void CreateNew()
    {
        // A partial file left by a killed writer is stale: this writer replaces it.
        if (File.Exists(_writePath)) File.Delete(_writePath);
        _file = Own(H5File.Create(_writePath));
        var structures = Own(_file.CreateGroup(FormatNames.Structures));
        var labels = Own(_file.CreateGroup(FormatNames.Labels));
        _metadata = Own(_file.CreateGroup(FormatNames.Metadata));
        Compression = _options.Compression;
        var filters = Compression.ToFilters();
        long chunk = _options.ChunkBytes;
        _numbers = Own(new DatasetColumn<long>(structures, FormatNames.AtomicNumbers, [], null, filters, chunk, _compressor));
        _numbersSplits = Own(new DatasetColumn<long>(structures, FormatNames.AtomicNumbersSplits, [], null, filters, chunk, _compressor));
        _positions = Own(new DatasetColumn<double>(structures, FormatNames.Positions, [3], FormatNames.UnitsLength, filters, chunk, _compressor));
        _cells = Own(new DatasetColumn<double>(structures, FormatNames.Cells, [3, 3], FormatNames.UnitsLength, filters, chunk, _compressor));
        _pbc = Own(new DatasetColumn<bool>(structures, FormatNames.Pbc, [3], null, filters, chunk, _compressor));
        _energy = Own(new DatasetColumn<double>(labels, FormatNames.Energy, [], FormatNames.UnitsEnergy, filters, chunk, _compressor));
        _forces = Own(new DatasetColumn<float>(labels, FormatNames.Forces, [3], FormatNames.UnitsForce, filters, chunk, _compressor));
        _forcesSplits = Own(new DatasetColumn<long>(labels, FormatNames.ForcesSplits, [], null, filters, chunk, _compressor));
        _stress = Own(new DatasetColumn<double>(labels, FormatNames.Stress, [6], FormatNames.UnitsStress, filters, chunk, _compressor));
        _stressMask = Own(new DatasetColumn<bool>(labels, FormatNames.StressMask, [], null, filters, chunk, _compressor));
        _indices = Own(new DatasetColumn<long>(labels, FormatNames.StructureIndices, [], null, filters, chunk, _compressor));
        _numbersSplits.Add(0L);
        _forcesSplits.Add(0L);
    }

    /// <summary>Opens an existing file for append, after checking its whole layout; returns what it holds.</summary>
    private (long Structures, long Atoms, string Created, DatasetStatistics Stats) OpenExisting()
    {
        _file = Own(H5File.Open(_writePath, readOnly: false));
        var layout = DatasetLayout.Open(_file, Path);
        // From here the writer owns every group and dataset the layout opened.
        layout.Release();
        Own(layout.Structures);
        Own(layout.Labels);
        _metadata = Own(layout.Metadata);
        long chunk = _options.ChunkBytes;
        _numbers = Own(new DatasetColumn<long>(layout.Structures, layout.AtomicNumbers, chunk, _compressor));
        _numbersSplits = Own(new DatasetColumn<long>(layout.Structures, layout.AtomicNumbersSplits, chunk, _compressor));
        _positions = Own(new DatasetColumn<double>(layout.Structures, layout.Positions, chunk, _compressor));
        _cells = Own(new DatasetColumn<double>(layout.Structures, layout.Cells, chunk, _compressor));
        _pbc = Own(new DatasetColumn<bool>(layout.Structures, layout.Pbc, chunk, _compressor));
        _energy = Own(new DatasetColumn<double>(layout.Labels, layout.Energy, chunk, _compressor));
        _forces = Own(new DatasetColumn<float>(layout.Labels, layout.Forces, chunk, _compressor));
        _forcesSplits = Own(new DatasetColumn<long>(layout.Labels, layout.ForcesSplits, chunk, _compressor));
        _stress = Own(new DatasetColumn<double>(layout.Labels, layout.Stress, chunk, _compressor));
        _stressMask = Own(new DatasetColumn<bool>(layout.Labels, layout.StressMask, chunk, _compressor));
        _indices = Own(new DatasetColumn<long>(layout.Labels, layout.StructureIndices, chunk, _compressor));
        OpenExistingExtras(layout);

        // New rows go through each dataset's own filters; say so when the caller asked for something else.
        var existing = layout.Positions.Filters;
        Compression = existing.DeflateLevel > 0 ? Compression.Gzip(existing.DeflateLevel, existing.Shuffle)
            : existing.Lzf ? Compression.Lzf : Compression.None;
        if (Compression != _options.Compression)
            _options.Warning($"{Path} uses {Compression} compression; appending with it instead of {_options.Compression}");

        var attributes = _metadata.Attributes;
        string created = attributes.Contains(FormatNames.Created) && attributes.Get(FormatNames.Created) is string c ? c : Now();
        var stats = DatasetStatistics.ReadFrom(attributes, layout.Energy, layout.Forces, layout.AtomicNumbers);
        return (layout.NumStructures, layout.NumAtoms, created, stats);
    }
}
