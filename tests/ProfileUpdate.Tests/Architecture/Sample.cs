// A miniature of the service's folders that breaks the layering on purpose, for LayeringTests.A_broken_rule_is_reported.
#pragma warning disable CA1812, IDE0051
namespace ProfileUpdate.Tests.Architecture.Sample.Updates
{
    public sealed class SampleQueue
    {
        public int Count { get; set; }
    }
}

namespace ProfileUpdate.Tests.Architecture.Sample.Store
{
    public sealed class SampleConnections(Updates.SampleQueue queue)
    {
        public int Pending => queue.Count;
    }
}

namespace ProfileUpdate.Tests.Architecture.Sample.Bulk
{
    public sealed class SampleBatch(Updates.SampleQueue queue)
    {
        public int Waiting => queue.Count;
    }
}
