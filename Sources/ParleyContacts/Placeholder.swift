enum _PlaceholderContacts {}
