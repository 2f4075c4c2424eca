package jcriu.net;

/**
 * A message waiting in a socket's receive queue: its bytes, the credentials a reader with
 * SO_PASSCRED would get (null: none known), the file descriptions in flight with it
 * (SCM_RIGHTS, as file ids of the dump) and, for a datagram, its sender's address (null: none).
 */
public record QueuedMessage(byte[] data, Creds creds, int[] fileIds, byte[] from) {
    public record Creds(int pid, int uid, int gid) {}

    public QueuedMessage {
        fileIds = fileIds == null ? new int[0] : fileIds.clone();
    }
}
