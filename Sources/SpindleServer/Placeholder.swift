public enum SpindleServerPlaceholder {}
