namespace ProfileUpdate.Api.Visits;

/// <summary>The answer Adobe's SDKs need to learn the visitor's id.</summary>
public sealed record DeliveryResponse(int Status, string RequestId, string Client, DeliveryId Id, string EdgeHost, DeliveryExecute Execute);
